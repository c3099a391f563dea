// Saving where it cannot succeed (docs/reliability.md, "Saving where it cannot succeed"): every
// writer of the library, into a directory that does not exist, under a path that is a file or a
// directory, into a directory it may not write, and with the disk refusing the data half-way.
// Each gets an IoError that names the file and says why; a file that was there before is left
// bit for bit as it was, and no temporary file is left behind (Note [atomic save]).

#include "autograd/errors.hpp"
#include "autograd/graph.hpp"
#include "autograd/io.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/random.hpp"
#include "autograd/tensor.hpp"
#include "nn/linear.hpp"
#include "plot/heatmap.hpp"
#include "plot/image_grid.hpp"
#include "plot/scatter.hpp"
#include "testing.hpp"
#include "train/history.hpp"

#include <doctest/doctest.h>

#include <fmt/format.h>

#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

using namespace xgrad;
namespace fs = std::filesystem;
using namespace testing;  // TempDir, read_file, write_file

namespace {

// One writer: its name (the first word of its messages) and a call that writes `path`. `version`
// changes the content, so a test can tell the old file from the new one.
struct Writer {
    const char* name;
    std::function<void(const std::string& path, int version)> save;
};

template <class T>
xt::xarray<T> filled(const std::vector<std::size_t>& shape, double v) {
    xt::xarray<T> a = xt::xarray<T>::from_shape(shape);
    a.fill(T(v));
    return a;
}

// Three epochs of a fit history whose first loss is `v`.
train::History history(int v) {
    train::History h;
    h.loss = {1.0 * v, 0.5, 0.25};
    h.lr = {0.1, 0.1, 0.1};
    h.seconds = {1, 1, 1};
    return h;
}

std::vector<Writer> writers() {
    return {
        {"save_npy",
         [](const std::string& p, int v) { save_npy<double>(p, filled<double>({64}, v)); }},
        {"save_npz",
         [](const std::string& p, int v) {
             save_npz<float>(p, {{"w", filled<float>({8, 8}, v)}});
         }},
        {"save",  // Module::save
         [](const std::string& p, int v) {
             manual_seed(static_cast<std::uint64_t>(v));  // another seed, other weights
             nn::Linear<float> m(16, 8);
             m.save(p);
         }},
        {"save_csv", [](const std::string& p, int v) { history(v).save_csv(p); }},
        {"save_svg", [](const std::string& p, int v) { history(v).save_svg(p); }},
        {"save_dot",
         [](const std::string& p, int v) {
             const Tensor<double> a = scalar(1.0 * v, true).set_name("a");
             save_dot(mul(a, a), p);
         }},
        {"save_html",
         [](const std::string& p, int v) {
             const Tensor<double> a = scalar(1.0 * v, true).set_name("a");
             save_html(mul(a, a), p);
         }},
        {"save_image_grid_svg",
         [](const std::string& p, int v) {
             plot::save_image_grid_svg<float>(p, filled<float>({2, 4, 4}, 0.1 * v), {});
         }},
        {"save_confusion_matrix_svg",
         [](const std::string& p, int v) {
             plot::save_confusion_matrix_svg(p, {static_cast<std::size_t>(v), 1, 2, 3}, 2);
         }},
        {"save_scatter_svg",
         [](const std::string& p, int v) {
             plot::save_scatter_svg(p, {0.0, 1.0}, {1.0, 2.0}, {0, 1}, {"a", "b"},
                                    "run " + std::to_string(v));  // the title differs
         }},
    };
}

// What a save run in a child process did: the message of the IoError it threw, or why not.
struct ChildResult {
    bool io_error = false;
    std::string message;
};

// Runs `call` in a forked child (so that process limits and a change of user stay there) and
// returns what it threw. The child writes the message into a pipe; any other outcome is
// reported as a message that fails the caller's checks.
ChildResult in_child(const std::function<void()>& call) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        std::string out;
        char tag = 'N';
        try {
            call();
            out = "the save did not throw";
        } catch (const IoError& e) {
            tag = 'E';
            out = e.what();
        } catch (const std::exception& e) {
            out = fmt::format("not an IoError: {}", e.what());
        }
        out.insert(out.begin(), tag);
        const ssize_t n = ::write(fds[1], out.data(), out.size());
        ::_exit(n == static_cast<ssize_t>(out.size()) ? 0 : 1);
    }
    ::close(fds[1]);
    std::string got;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
        got.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got.empty()) {
        return {false, fmt::format("the child ended with status {:#x}", status)};
    }
    return {got[0] == 'E', got.substr(1)};
}

// The names in `dir`.
std::vector<std::string> names_in(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(dir))
        out.push_back(entry.path().filename().string());
    return out;
}

}  // namespace

TEST_CASE("saving: into a directory that does not exist, an IoError names the file") {
    TempDir dir;
    for (const Writer& w : writers()) {
        CAPTURE(w.name);
        const std::string path = dir / "no-such-dir/out.file";
        try {
            w.save(path, 1);
            FAIL("no error");
        } catch (const IoError& e) {
            const std::string msg = e.what();
            CAPTURE(msg);
            CHECK(msg.rfind(std::string(w.name) + ": ", 0) == 0);
            CHECK(msg.find(path) != std::string::npos);
            CHECK(msg.find("No such file or directory") != std::string::npos);
        }
        CHECK(names_in(dir.path.string()).empty());
    }
}

TEST_CASE("saving: under a path whose parent is a file, an IoError names the file") {
    TempDir dir;
    write_file(dir / "plain", "a file, not a directory");
    for (const Writer& w : writers()) {
        CAPTURE(w.name);
        const std::string path = dir / "plain/out.file";
        try {
            w.save(path, 1);
            FAIL("no error");
        } catch (const IoError& e) {
            const std::string msg = e.what();
            CAPTURE(msg);
            CHECK(msg.rfind(std::string(w.name) + ": ", 0) == 0);
            CHECK(msg.find(path) != std::string::npos);
            CHECK(msg.find("Not a directory") != std::string::npos);
        }
        CHECK(read_file(dir / "plain") == "a file, not a directory");
        CHECK(names_in(dir.path.string()) == std::vector<std::string>{"plain"});
    }
}

TEST_CASE("saving: onto a path that is a directory, the directory stays and nothing is left") {
    TempDir dir;
    fs::create_directory(dir.path / "taken");
    write_file(dir / "taken/inside", "kept");
    for (const Writer& w : writers()) {
        CAPTURE(w.name);
        const std::string path = dir / "taken";
        try {
            w.save(path, 1);
            FAIL("no error");
        } catch (const IoError& e) {
            const std::string msg = e.what();
            CAPTURE(msg);
            CHECK(msg.rfind(std::string(w.name) + ": ", 0) == 0);
            CHECK(msg.find("'" + path + "' is left unchanged") != std::string::npos);
            CHECK(msg.find("Is a directory") != std::string::npos);
        }
        CHECK(fs::is_directory(dir.path / "taken"));
        CHECK(read_file(dir / "taken/inside") == "kept");
        CHECK(names_in(dir.path.string()) == std::vector<std::string>{"taken"});
    }
}

// The user may not write the directory: made read-only (0555). Root may write anywhere, so when
// the tests run as root (CI does) the child drops to the user `nobody` first.
TEST_CASE("saving: into a directory the user may not write, the old file stays") {
    TempDir dir;
    const std::string sub = dir / "readonly";
    fs::create_directory(sub);
    uid_t uid = ::geteuid();
    gid_t gid = ::getegid();
    if (uid == 0) {
        const passwd* nobody = ::getpwnam("nobody");
        REQUIRE_MESSAGE(nobody != nullptr, "running as root, and there is no user nobody");
        uid = nobody->pw_uid;
        gid = nobody->pw_gid;
        // nobody must reach the directory: the temporary directory's parents are searchable.
        fs::permissions(dir.path, fs::perms::owner_all | fs::perms::others_exec);
    }
    for (const Writer& w : writers()) {
        CAPTURE(w.name);
        const std::string path = sub + "/out.file";
        fs::permissions(sub, fs::perms::all);
        w.save(path, 1);
        const std::string before = read_file(path);
        REQUIRE(!before.empty());
        fs::permissions(sub, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                 fs::perms::group_exec | fs::perms::others_read |
                                 fs::perms::others_exec);
        const ChildResult r = in_child([&] {
            if (::geteuid() != uid && (::setgid(gid) != 0 || ::setuid(uid) != 0)) {
                throw std::runtime_error("cannot switch to the user nobody");
            }
            w.save(path, 2);
        });
        CAPTURE(r.message);
        CHECK(r.io_error);
        CHECK(r.message.rfind(std::string(w.name) + ": ", 0) == 0);
        CHECK(r.message.find(path) != std::string::npos);
        CHECK(r.message.find("Permission denied") != std::string::npos);
        CHECK(r.message.find("is left unchanged") != std::string::npos);
        CHECK(read_file(path) == before);
        CHECK(names_in(sub) == std::vector<std::string>{"out.file"});
    }
    fs::permissions(sub, fs::perms::all);
}

// The disk refuses the data half-way (a full disk, a quota): here the process's file size limit,
// RLIMIT_FSIZE, makes every write past 16 bytes fail with EFBIG (SIGXFSZ ignored), whoever the
// user is. The save fails while the temporary file is written; the old file is untouched.
TEST_CASE("saving: when the disk refuses the data half-way, the old file stays whole") {
    TempDir dir;
    for (const Writer& w : writers()) {
        CAPTURE(w.name);
        const std::string path = dir / "out.file";
        w.save(path, 1);
        const std::string before = read_file(path);
        REQUIRE(before.size() > 16);
        const ChildResult r = in_child([&] {
            ::signal(SIGXFSZ, SIG_IGN);
            const rlimit limit{16, 16};
            if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) throw std::runtime_error("setrlimit");
            w.save(path, 2);
        });
        CAPTURE(r.message);
        CHECK(r.io_error);
        CHECK(r.message.rfind(std::string(w.name) + ": ", 0) == 0);
        CHECK(r.message.find("writing the temporary file for '" + path + "' failed") !=
              std::string::npos);
        CHECK(r.message.find("File too large") != std::string::npos);
        CHECK(read_file(path) == before);
        CHECK(names_in(dir.path.string()) == std::vector<std::string>{"out.file"});
        // The same call without the limit writes the new content: the failure was the limit's.
        w.save(path, 2);
        CHECK(read_file(path) != before);
        fs::remove(path);
    }
}
