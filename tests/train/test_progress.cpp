#include "train/progress.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>

using namespace xgrad;

TEST_CASE("Reporter: lines mode prints one line per epoch and nothing during it") {
    std::ostringstream out;
    train::Reporter reporter(train::Progress::lines, out, 2, 5);
    reporter.epoch_begin(1);
    CHECK(!reporter.due(1));  // no bar to redraw
    reporter.epoch_end(2.0, 1.0, train::metric_text("loss", 0.5));
    // 1.0 s over 5 steps: 200 ms a step
    CHECK(out.str() == "Epoch 1/2 - 5 steps - 2.0s 200.00ms/step - loss: 0.5000\n");
    reporter.message("done");
    CHECK(out.str().substr(out.str().size() - 5) == "done\n");
}

TEST_CASE("Reporter: bar mode redraws in place and finishes each epoch with a full bar") {
    std::ostringstream out;
    train::Reporter reporter(train::Progress::bar, out, 1, 4);
    reporter.epoch_begin(1);
    REQUIRE(reporter.due(1));  // the first step is always drawn
    reporter.step(1, train::metric_text("loss", 1.0));
    CHECK(!reporter.due(4));  // the last step is epoch_end's
    reporter.epoch_end(1.5, 2.0, train::metric_text("loss", 0.25));
    const std::string text = out.str();
    CHECK(text.rfind("Epoch 1/1\n\r1/4 [======>", 0) == 0);  // 1/4 of 30 columns: 7, the last '>'
    // The finished line (longer than the bar it replaces, so not padded) ends the output.
    const std::string last =
        "\r4/4 [==============================] - 1.5s 500.00ms/step - loss: 0.2500\n";
    REQUIRE(text.size() > last.size());
    CHECK(text.substr(text.size() - last.size()) == last);
}

TEST_CASE("Reporter: mode none prints nothing, automatic on a string stream prints lines") {
    std::ostringstream quiet, automatic;
    train::Reporter none(train::Progress::none, quiet, 1, 1);
    none.epoch_begin(1);
    none.epoch_end(1, 1, "");
    none.message("stopped");
    CHECK(quiet.str().empty());
    train::Reporter lines(train::Progress::automatic, automatic, 1, 1);
    lines.epoch_begin(1);
    lines.epoch_end(1, 1, "");
    CHECK(automatic.str() == "Epoch 1/1 - 1 steps - 1.0s 1.00s/step\n");
}

TEST_CASE("metric_text: name and four decimals after a dash") {
    CHECK(train::metric_text("val_accuracy", 0.83079999) == " - val_accuracy: 0.8308");
    CHECK(train::metric_text("loss", 6468840056786447269306113401552896000.0) ==
          " - loss: 6.4688e+36");  // a diverging loss, not 37 digits
    CHECK(train::metric_text("loss", 999999.0) == " - loss: 999999.0000");
    CHECK(train::metric_text("loss", std::nan("")) == " - loss: nan");
}
