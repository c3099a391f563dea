// Training resumes exactly from a checkpoint (model, optimizer and schedule saved as .npz) loaded
// in a fresh process: tests/helpers/resume_helper.cpp trains the first half and saves, a second
// process builds everything anew, loads and trains the rest; its final weights must equal, bit
// for bit, those of the same run done in one go here.

#include "autograd/io.hpp"
#include "optim/resume_training.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

using namespace xgrad;

namespace {

// Runs the helper with `args` in a child process (fork + exec) and returns its exit status.
int run_helper(std::vector<std::string> args) {
    args.insert(args.begin(), XGRAD_RESUME_HELPER);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);  // exec failed
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void check_resume(const std::string& kind) {
    testing::TempDir dir;
    const int k = 7, n = 16;
    REQUIRE(run_helper({kind, "first", dir.path.string(), std::to_string(k)}) == 0);
    REQUIRE(run_helper({kind, "resume", dir.path.string(), std::to_string(k), std::to_string(n)}) ==
            0);
    resume_training::Run whole(kind, 7);
    whole.train(0, n);
    const auto final_state = load_npz<float>(dir / "final.npz");
    CHECK(testing::bit_equal(final_state, whole.model.state_dict()));
    // and the run did move the weights: the checkpoint at k differs from the end
    CHECK(!testing::bit_equal(load_npz<float>(dir / "model.npz"), whole.model.state_dict()));
}

}  // namespace

TEST_CASE("resume: SGD with momentum, two groups and StepLR, in a fresh process, bit-exact") {
    check_resume("sgd");
}

TEST_CASE("resume: Adam, two groups and OneCycleLR, in a fresh process, bit-exact") {
    check_resume("adam");
}
