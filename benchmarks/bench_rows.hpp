// bench_rows.hpp: the machine-readable copy of a benchmark's figures, for scripts/bench.
//
// When the environment variable OSSMP_BENCH_ROWS names a file, every figure a benchmark prints
// is also appended to it as one tab-separated line:
//
//   section  figure  value  unit  limit  ratio  target  verdict
//
// `limit` is what the figure is measured against (a limit measured in the same run, or the
// target's own number where the target is absolute, e.g. micro_bench's "<= 2 us"), "-" when
// there is none; `ratio` is value / limit ("-" without a limit); `target` is the target's text
// ("-" for information); `verdict` is ok, MISS or info. Not set: nothing is written.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace ossmp_bench {

/// Tabs and newlines would break the line format; figure names have none, but be safe.
inline std::string row_field(std::string s) {
    for (auto& c : s)
        if (c == '\t' || c == '\n' || c == '\r')
            c = ' ';
    return s;
}

/// Appends one figure to $OSSMP_BENCH_ROWS (if set). `limit` <= 0: no limit. `target` empty or
/// "-": information (verdict "info"), else `pass` decides ok / MISS.
inline void row(const std::string& section, const std::string& figure, double value,
                const std::string& unit, double limit, const std::string& target, bool pass) {
    const char* path = std::getenv("OSSMP_BENCH_ROWS");
    if (path == nullptr || *path == '\0')
        return;
    std::FILE* f = std::fopen(path, "a");
    if (f == nullptr)
        return;
    std::string fig = figure;
    while (!fig.empty() && fig.front() == ' ')
        fig.erase(0, 1);
    const bool info = target.empty() || target == "-";
    char lim[48] = "-", ratio[48] = "-";
    if (limit > 0) {
        std::snprintf(lim, sizeof lim, "%.6g", limit);
        std::snprintf(ratio, sizeof ratio, "%.4g", value / limit);
    }
    std::fprintf(f, "%s\t%s\t%.6g\t%s\t%s\t%s\t%s\t%s\n", row_field(section).c_str(),
                 row_field(fig).c_str(), value, row_field(unit).c_str(), lim, ratio,
                 info ? "-" : row_field(target).c_str(), info ? "info" : (pass ? "ok" : "MISS"));
    std::fclose(f);
}

} // namespace ossmp_bench
