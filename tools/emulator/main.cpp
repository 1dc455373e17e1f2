// ossmp-emulator: a local OSS-compatible server (see tools/emulator/README.md).
#include "config.hpp"
#include "handler.hpp"
#include "server.hpp"
#include "storage.hpp"

#include "ossmp/detail/asio.hpp"

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    using namespace ossmp::emulator;
    std::signal(SIGPIPE, SIG_IGN);
    config cfg;
    auto err = parse_command_line(argc, argv, cfg);
    if (err == "help") {
        std::cout << usage_text;
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

    storage store(cfg.storage, cfg.storage_path);
    if (auto ec = store.open(cfg.buckets); ec) {
        std::cerr << "ossmp-emulator: storage " << cfg.storage_path << ": " << ec.message() << "\n";
        return 1;
    }
    service svc(cfg, store);
    asio::io_context io(1);
    server srv(io, cfg, svc);
    if (auto ec = srv.listen(); ec) {
        std::cerr << "ossmp-emulator: cannot listen on " << cfg.listen_host << ":"
                  << cfg.listen_port << ": " << ec.message() << "\n";
        return 1;
    }
    srv.start();
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const std::error_code& ec, int) {
        if (!ec)
            srv.stop();
        io.stop();
    });
    std::printf("ossmp-emulator listening on %s\n", srv.url().c_str());
    std::fflush(stdout);
    io.run();
    return 0;
}
