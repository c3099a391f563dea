// Runs one half of the resume test (tests/optim/test_resume.cpp) in a process of its own:
//   resume_helper <sgd|adam> first DIR K      trains steps [0, K) and saves the checkpoint in DIR
//   resume_helper <sgd|adam> resume DIR K N   builds a fresh run (another initial model), loads
//                                             the checkpoint, trains steps [K, N) and saves the
//                                             model as DIR/final.npz
// Exits 0 on success, 1 (with the message on stderr) on an error, 2 on bad arguments.

#include "optim/resume_training.hpp"

#include <cstdio>
#include <exception>
#include <string>

int main(int argc, char** argv) {
    if (argc < 5) return 2;
    const std::string kind = argv[1], mode = argv[2], dir = argv[3];
    try {
        const int k = std::stoi(argv[4]);
        if (mode == "first") {
            resume_training::Run run(kind, 7);
            run.train(0, k);
            run.save(dir);
        } else if (mode == "resume" && argc == 6) {
            resume_training::Run run(kind, 99);  // another model: load must replace it
            run.load(dir);
            run.train(k, std::stoi(argv[5]));
            run.model.save(dir + "/final.npz");
        } else {
            return 2;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "resume_helper: %s\n", e.what());
        return 1;
    }
    return 0;
}
