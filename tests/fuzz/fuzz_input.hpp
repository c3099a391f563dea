#pragma once

// What the fuzz targets share: xgrad's readers take paths, so each input is written to a file
// of this process's own (in /dev/shm when there is one, so no disk is touched) and read back.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace fuzz {

/// Writes `size` bytes to this process's input file, named with `name`, and returns its path.
inline const std::string& write_input(const char* name, const std::uint8_t* data,
                                      std::size_t size) {
    static const std::string path = [name] {
        const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        return std::string(dir) + "/xgrad_fuzz_" + name + "_" + std::to_string(getpid());
    }();
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || (size != 0 && std::fwrite(data, 1, size, f) != size) ||
        std::fclose(f) != 0) {
        std::perror(path.c_str());
        std::abort();  // the harness, not the reader, failed
    }
    return path;
}

}  // namespace fuzz
