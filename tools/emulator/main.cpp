// ossmp-emulator: a local OSS-compatible server (see tools/emulator/README.md).
#include "config.hpp"
#include "handler.hpp"
#include "server.hpp"
#include "storage.hpp"

#include "ossmp/detail/asio.hpp"
#include "ossmp/version.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <malloc.h>
#include <sys/resource.h>

namespace {

// Each connection needs a descriptor (two while dir storage writes or streams a file): raises
// the soft open-file limit towards the hard one, and warns when --max-connections still cannot
// be reached (accept then fails, and is retried every 100 ms, until descriptors are free).
void raise_open_file_limit(std::size_t max_connections) {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return;
    const auto want = static_cast<rlim_t>(max_connections) * 2 + 64;
    if (rl.rlim_cur < want) {
        rlimit raised = rl;
        raised.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl = raised;
    }
    if (rl.rlim_cur < static_cast<rlim_t>(max_connections) + 64)
        std::cerr << "ossmp-emulator: warning: the open-file limit (" << rl.rlim_cur
                  << ") is too low for --max-connections " << max_connections
                  << "; connections beyond it wait in the listen queue\n";
}

// Request bodies kept in RAM (memory storage: every part) are malloc'd blocks of the part's
// size. By default glibc serves blocks this large with mmap and returns them with munmap, or
// trims freed heap back to the system, so parts kept landing in fresh pages: 2,048 page faults
// per 8 MiB part, 11 us each on the 2-core VM of our benchmarks (memory storage: 3.7 emulator
// CPU-s/GB, 106,000 faults in a 2 s run of emulator_bench). Bodies up to 32 MiB (glibc's
// largest threshold) now come from the heap, and up to 512 MiB of freed heap is kept for the
// next ones (2.4 s/GB, 55,000 faults: those of the parts the storage still holds).
void keep_freed_bodies() {
    (void)::mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    (void)::mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
}

} // namespace

int main(int argc, char** argv) {
    using namespace ossmp::emulator;
    std::signal(SIGPIPE, SIG_IGN);
    config cfg;
    auto err = parse_command_line(argc, argv, cfg);
    if (err == "help") {
        std::cout << usage_text;
        return 0;
    }
    if (err == "version") {
        std::cout << "ossmp-emulator " << ossmp::version_string << "\n";
        return 0;
    }
    if (!err.empty()) {
        std::cerr << "ossmp-emulator: " << err << "\n" << usage_text;
        return 2;
    }
    fault_injector check;
    if (auto ferr = check.parse(cfg.faults, cfg.faults_seed); !ferr.empty()) {
        std::cerr << "ossmp-emulator: --faults: " << ferr << "\n";
        return 2;
    }

    raise_open_file_limit(cfg.max_connections);
    keep_freed_bodies();
    storage store(cfg.storage, cfg.storage_path);
    if (auto ec = store.open(cfg.buckets); ec) {
        std::cerr << "ossmp-emulator: storage " << cfg.storage_path << ": " << ec.message() << "\n";
        return 1;
    }
    service svc(cfg, store);
    // One io_context per thread, each run by its own thread: a connection stays on the thread
    // that accepted it (no hand-offs between threads; small requests measured faster than with
    // one io_context run by N threads and a strand per connection). Work guards keep the idle
    // ones running.
    const unsigned threads = cfg.threads;
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    std::vector<asio::io_context*> workers;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    for (unsigned i = 0; i < threads; ++i) {
        contexts.push_back(std::make_unique<asio::io_context>(1));
        workers.push_back(contexts.back().get());
        guards.push_back(asio::make_work_guard(*contexts.back()));
    }
    asio::io_context& io = *contexts.front();
    server srv(workers, cfg, svc);
    if (auto ec = srv.listen(); ec) {
        std::cerr << "ossmp-emulator: cannot listen on " << cfg.listen_host << ":"
                  << cfg.listen_port << ": " << ec.message() << "\n";
        return 1;
    }
    srv.start();
    // SIGTERM/SIGINT: stop accepting and close every connection (each on its own thread); once
    // none is left the work guards go and every io_context runs out of work. A connection that
    // does not finish within `drain_limit` (it cannot: its socket is closed) is cut by stop().
    constexpr auto drain_limit = std::chrono::seconds(5);
    auto control = asio::make_strand(io);
    asio::steady_timer drain_timer(control);
    asio::signal_set signals(control, SIGINT, SIGTERM);
    auto stop_all = [&] {
        for (auto* w : workers)
            w->stop();
    };
    signals.async_wait([&](const std::error_code& ec, int) {
        if (ec)
            return;
        drain_timer.expires_after(drain_limit);
        drain_timer.async_wait([&](const std::error_code& tec) {
            if (!tec)
                stop_all();
        });
        srv.stop([&] {
            asio::post(control, [&] {
                drain_timer.cancel();
                guards.clear();
            });
        });
    });
    std::printf("ossmp-emulator listening on %s\n", srv.url().c_str());
    std::fflush(stdout);
    std::vector<std::thread> pool;
    pool.reserve(threads - 1);
    for (unsigned i = 1; i < threads; ++i)
        pool.emplace_back([w = workers[i]] { w->run(); });
    io.run();
    for (auto& t : pool)
        t.join();
    return 0;
}
