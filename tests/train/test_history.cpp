#include "train/history.hpp"

#include "autograd/errors.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <string>

using namespace xgrad;

TEST_CASE("History: series by name, and has() for the recorded ones") {
    train::History h;
    h.loss = {0.5, 0.25};
    h.lr = {0.1, 0.1};
    CHECK(h.epochs() == 2);
    CHECK(&h.at("loss") == &h.loss);
    CHECK(&h.at("val_accuracy") == &h.val_accuracy);
    CHECK(h.has("lr"));
    CHECK(!h.has("accuracy"));
    CHECK_THROWS_WITH_AS(h.at("f1"), doctest::Contains("no series named 'f1'"), ValueError);
}

TEST_CASE("History: to_csv leaves out the series that were not recorded") {
    train::History h;
    h.loss = {0.5, 0.25};
    h.val_loss = {0.625, 0.375};
    h.lr = {0.1, 0.05};
    h.seconds = {1.5, 2};
    CHECK(h.to_csv() ==
          "epoch,loss,val_loss,lr,seconds\n"
          "1,0.5,0.625,0.1,1.5\n"
          "2,0.25,0.375,0.05,2\n");
}

TEST_CASE("History: to_svg has a loss panel, and an accuracy panel when recorded") {
    train::History h;
    h.loss = {1, 0.5, 0.25};
    const std::string loss_only = h.to_svg();
    CHECK(loss_only.find("width=\"450\"") != std::string::npos);
    CHECK(loss_only.find(">accuracy</text>") == std::string::npos);
    h.val_accuracy = {0.5, 0.75, 0.875};
    const std::string both = h.to_svg();
    CHECK(both.find("width=\"900\"") != std::string::npos);
    CHECK(both.find(">accuracy</text>") != std::string::npos);
    CHECK(both.find("stroke-dasharray") != std::string::npos);  // validation is dashed
}

TEST_CASE("History: save_csv and save_svg errors name the function and the file") {
    testing::TempDir dir;
    train::History h;
    h.loss = {1.0};
    h.lr = {0.1};
    h.seconds = {0.5};
    const std::string csv = dir / "missing/h.csv", svg = dir / "missing/h.svg";
    CHECK_IO_ERROR(h.save_csv(csv), "save_csv: cannot create the temporary file '" + csv, csv);
    CHECK_IO_ERROR(h.save_svg(svg), "save_svg: cannot create the temporary file '" + svg, svg);
}

TEST_CASE("History: other metrics by name, in the CSV and each in a panel of the SVG") {
    train::History h;
    h.loss = {0.5, 0.25};
    h.series("top2_accuracy") = {0.75, 1};
    h.val_loss = {0.625, 0.375};
    h.series("val_top2_accuracy") = {0.5, 0.875};
    h.lr = {0.1, 0.05};
    h.seconds = {1.5, 2};
    CHECK(&h.series("loss") == &h.loss);
    CHECK(&h.series("top2_accuracy") == &h.at("top2_accuracy"));
    CHECK(h.metrics.size() == 2);  // series() of an existing name adds nothing
    CHECK(h.to_csv() ==
          "epoch,loss,top2_accuracy,val_loss,val_top2_accuracy,lr,seconds\n"
          "1,0.5,0.75,0.625,0.5,0.1,1.5\n"
          "2,0.25,1,0.375,0.875,0.05,2\n");
    const std::string svg = h.to_svg();
    CHECK(svg.find("width=\"900\"") != std::string::npos);  // loss, top2_accuracy
    CHECK(svg.find(">top2_accuracy</text>") != std::string::npos);
    CHECK_THROWS_WITH_AS(h.at("f1"),
                         doctest::Contains("seconds, lr, top2_accuracy, "
                                           "val_top2_accuracy)"),
                         ValueError);
}
