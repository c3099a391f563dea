#include "nn/metrics.hpp"

#include "autograd/errors.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <vector>

using namespace xgrad;

TEST_CASE("accuracy: argmax against indices and one-hot, threshold for one output") {
    // row argmaxes: 1, 0 (a tie goes to the first maximum), 2
    const Tensor<double> scores(xt::xarray<double>{{0.1, 0.9, 0.0}, {0.5, 0.5, 0.2}, {0, 1, 3}});
    CHECK(nn::argmax_rows(scores) == std::vector<std::size_t>{1, 0, 2});
    CHECK(nn::count_correct(scores, Tensor<double>(xt::xarray<double>{1, 1, 2})) == 2);
    CHECK(nn::accuracy(scores, Tensor<double>(
                                   xt::xarray<double>{{0., 1., 0.}, {1., 0., 0.}, {1., 0., 0.}})) ==
          doctest::Approx(2.0 / 3));
    // probabilities 0.2, 0.7, 0.6 > 0.5 → 0, 1, 1 against 0, 1, 0: two right
    xt::xarray<double> column{0.2, 0.7, 0.6};
    column.reshape({3, 1});
    const Tensor<double> p(column);
    CHECK(nn::count_correct(p, Tensor<double>(xt::xarray<double>{0, 1, 0})) == 2);
    CHECK(nn::count_correct(p, Tensor<double>(xt::xarray<double>{0, 1, 0}), 0.65) == 3);
    CHECK_THROWS_WITH_AS(nn::accuracy(scores, Tensor<double>(xt::xarray<double>{1, 2})),
                         doctest::Contains("scores=[3, 3], targets=[2]"), ShapeError);
}

namespace {

// Eight examples of four classes (worked out by hand below):
//   targets   0 0 0 1 1 2 2 3
//   predicted 0 0 1 1 1 2 0 2
std::vector<std::size_t> eight_targets() {
    return {0, 0, 0, 1, 1, 2, 2, 3};
}
std::vector<std::size_t> eight_predicted() {
    return {0, 0, 1, 1, 1, 2, 0, 2};
}

}  // namespace

TEST_CASE("confusion_matrix: rows are true classes, columns predicted ones") {
    const nn::ConfusionMatrix cm = nn::confusion_matrix(eight_predicted(), eight_targets(), 4);
    // row 0 (targets 0 at 0, 1, 2): predicted 0, 0, 1; row 1: 1, 1; row 2: 2, 0; row 3: 2
    CHECK(cm.counts() == std::vector<std::size_t>{2, 1, 0, 0,  //
                                                  0, 2, 0, 0,  //
                                                  1, 0, 1, 0,  //
                                                  0, 0, 1, 0});
    CHECK(cm(2, 0) == 1);
    CHECK(cm.total() == 8);
}

TEST_CASE("confusion_matrix: from scores, batch by batch, with index or one-hot targets") {
    // argmaxes 1, 0, 2 (the tie in row 1 goes to the first maximum, class 0)
    const Tensor<double> scores(xt::xarray<double>{{0.1, 0.9, 0.0}, {0.5, 0.5, 0.2}, {0, 1, 3}});
    nn::ConfusionMatrix cm =
        nn::confusion_matrix(scores, Tensor<double>(xt::xarray<double>{1., 1., 0.}), 3);
    // (true 1, pred 1), (true 1, pred 0), (true 0, pred 2)
    CHECK(cm.counts() == std::vector<std::size_t>{0, 0, 1, 1, 1, 0, 0, 0, 0});
    // a second batch, one-hot targets 2, 2, 2: (2, 1), (2, 0), (2, 2)
    cm.update(scores, Tensor<double>(xt::xarray<double>{{0., 0., 1.}, {0., 0., 1.}, {0., 0., 1.}}));
    CHECK(cm.counts() == std::vector<std::size_t>{0, 0, 1, 1, 1, 0, 1, 1, 1});
    CHECK(cm.total() == 6);
}

TEST_CASE("confusion_matrix: bad input names the function and the values") {
    const Tensor<double> scores(xt::xarray<double>{{0.1, 0.9}, {0.5, 0.2}});
    CHECK_THROWS_WITH_AS(
        nn::confusion_matrix(scores, Tensor<double>(xt::xarray<double>{1., 2.}), 2),
        "confusion_matrix: targets must be class indices in [0, 2); got "
        "targets[1]=2",
        ValueError);
    CHECK_THROWS_WITH_AS(
        nn::confusion_matrix(scores, Tensor<double>(xt::xarray<double>{1., 0.5}), 2),
        doctest::Contains("got targets[1]=0.5"), ValueError);
    CHECK_THROWS_WITH_AS(
        nn::confusion_matrix(scores, Tensor<double>(xt::xarray<double>{1., 0.}), 3),
        "confusion_matrix: expected scores [n, 3] (one column per class); got "
        "scores=[2, 2]",
        ShapeError);
    CHECK_THROWS_WITH_AS(
        nn::confusion_matrix(scores, Tensor<double>(xt::xarray<double>{1., 0., 1.}), 2),
        doctest::Contains("got scores=[2, 2], targets=[3]"), ShapeError);
    CHECK_THROWS_WITH_AS(nn::confusion_matrix({0, 3}, {0, 1}, 3),
                         "confusion_matrix: classes must be in [0, 3); got targets[1]=1, "
                         "predicted[1]=3",
                         ValueError);
    CHECK_THROWS_WITH_AS(nn::confusion_matrix({0}, {0, 1}, 3),
                         doctest::Contains("got predicted=[1], targets=[2]"), ShapeError);
    CHECK_THROWS_WITH_AS(nn::ConfusionMatrix(0), doctest::Contains("num_classes=0"), ValueError);
    nn::ConfusionMatrix cm(2);
    CHECK_THROWS_AS(cm.add(2, 0), ValueError);
    CHECK(cm.total() == 0);  // nothing counted
}

TEST_CASE("confusion_matrix: printed as a table with class names") {
    const nn::ConfusionMatrix cm = nn::confusion_matrix({0, 0, 1, 1, 1, 1}, {0, 0, 0, 1, 1, 1}, 2);
    CHECK(nn::to_string(cm, {"cat", "dog"}) ==
          "true \\ predicted  cat  dog\n"
          "             cat    2    1\n"
          "             dog    0    3\n");
    CHECK(nn::to_string(cm) ==
          "true \\ predicted  0  1\n"
          "               0  2  1\n"
          "               1  0  3\n");
    CHECK_THROWS_WITH_AS(nn::to_string(cm, {"cat"}),
                         "confusion_matrix: expected 2 class names (one per class); got 1",
                         ValueError);
}

TEST_CASE("classification_report: per-class scores, macro and weighted averages, 0/0 is 0") {
    const nn::ClassificationReport r =
        nn::classification_report(nn::confusion_matrix(eight_predicted(), eight_targets(), 4));
    // class: tp / predicted (column sum) = precision, tp / support (row sum) = recall
    //   0: 2/3, 2/3, F1 2/3        1: 2/3, 2/2, F1 2·(2/3)·1 / (5/3) = 0.8
    //   2: 1/2, 1/2, F1 1/2        3: 0/0 → 0, 0/1 = 0, F1 0/0 → 0
    const double p[] = {2. / 3, 2. / 3, 0.5, 0}, rc[] = {2. / 3, 1, 0.5, 0},
                 f1[] = {2. / 3, 0.8, 0.5, 0};
    const std::size_t support[] = {3, 2, 2, 1};
    REQUIRE(r.classes.size() == 4);
    for (std::size_t k = 0; k < 4; ++k) {
        CHECK(r.classes[k].precision == doctest::Approx(p[k]));
        CHECK(r.classes[k].recall == doctest::Approx(rc[k]));
        CHECK(r.classes[k].f1 == doctest::Approx(f1[k]));
        CHECK(r.classes[k].support == support[k]);
    }
    CHECK(r.accuracy == doctest::Approx(5.0 / 8));  // the diagonal: 2 + 2 + 1 + 0
    // macro: (2/3 + 2/3 + 1/2 + 0)/4 = 11/24, (2/3 + 1 + 1/2)/4 = 13/24, (2/3 + 0.8 + 0.5)/4
    CHECK(r.macro_avg.precision == doctest::Approx(11.0 / 24));
    CHECK(r.macro_avg.recall == doctest::Approx(13.0 / 24));
    CHECK(r.macro_avg.f1 == doctest::Approx(59.0 / 120));
    // weighted by support 3, 2, 2, 1 over 8: (2 + 4/3 + 1)/8, (2 + 2 + 1)/8, (2 + 1.6 + 1)/8
    CHECK(r.weighted_avg.precision == doctest::Approx(13.0 / 24));
    CHECK(r.weighted_avg.recall == doctest::Approx(5.0 / 8));
    CHECK(r.weighted_avg.f1 == doctest::Approx(4.6 / 8));
    CHECK(r.macro_avg.support == 8);
    CHECK(r.weighted_avg.support == 8);
}

TEST_CASE("classification_report: printed in sklearn's layout") {
    const nn::ClassificationReport r =
        nn::classification_report(nn::confusion_matrix(eight_predicted(), eight_targets(), 4));
    const std::string text = nn::to_string(r, {"a", "b", "c", "d"});
    CHECK(text.rfind("              precision    recall  f1-score   support\n\n", 0) == 0);
    CHECK(text.find("           a       0.67      0.67      0.67         3\n") !=
          std::string::npos);
    CHECK(text.find("           d       0.00      0.00      0.00         1\n") !=
          std::string::npos);
    CHECK(text.find("    accuracy                           0.62         8\n") !=
          std::string::npos);  // 0.625 rounds to even
    CHECK(text.find("   macro avg       0.46      0.54      0.49         8\n") !=
          std::string::npos);
    CHECK(text.find("weighted avg       0.54      0.62      0.57         8\n") !=
          std::string::npos);
    CHECK(nn::to_string(r, {}, 3).find("           1      0.667     1.000     0.800         2\n") !=
          std::string::npos);
    CHECK_THROWS_WITH_AS(nn::to_string(r, {"a"}), doctest::Contains("expected 4 class names"),
                         ValueError);
}

TEST_CASE("top_k_accuracy: the target among the k highest scores, ties in its favour") {
    const Tensor<double> scores(
        xt::xarray<double>{{0.1, 0.5, 0.3, 0.1},    // ranks: 1, 2, then 0 and 3 tied
                           {0.4, 0.3, 0.2, 0.1},    //
                           {0.2, 0.2, 0.2, 0.4}});  // classes 0, 1, 2 tied behind 3
    const Tensor<double> targets({2., 3., 1.});
    // row 0: target 2 has one higher score (1): in the top 2, not the top 1
    // row 1: target 3 has three higher: only in the top 4
    // row 2: target 1 has one strictly higher (3): in the top 2 despite the tie with 0 and 2
    CHECK(nn::count_top_k_correct(scores, targets, 1) == 0);
    CHECK(nn::count_top_k_correct(scores, targets, 2) == 2);
    CHECK(nn::top_k_accuracy(scores, targets, 3) == doctest::Approx(2.0 / 3));
    CHECK(nn::top_k_accuracy(scores, targets, 4) == 1.0);
    // one-hot targets give the same
    const Tensor<double> one_hot(
        xt::xarray<double>{{0., 0., 1., 0.}, {0., 0., 0., 1.}, {0., 1., 0., 0.}});
    CHECK(nn::count_top_k_correct(scores, one_hot, 2) == 2);
}

TEST_CASE("top_k_accuracy: bad k, shapes and labels are named") {
    const Tensor<double> scores(xt::xarray<double>{{0.1, 0.9}, {0.5, 0.2}});
    CHECK_THROWS_WITH_AS(nn::top_k_accuracy(scores, Tensor<double>(xt::xarray<double>{1., 0.}), 0),
                         "top_k_accuracy: k must be in [1, classes]; got k=0 with scores=[2, 2]",
                         ValueError);
    CHECK_THROWS_WITH_AS(nn::top_k_accuracy(scores, Tensor<double>(xt::xarray<double>{1., 0.}), 3),
                         doctest::Contains("got k=3 with scores=[2, 2]"), ValueError);
    CHECK_THROWS_WITH_AS(nn::top_k_accuracy(scores, Tensor<double>(xt::xarray<double>{1., -1.}), 1),
                         doctest::Contains("top_k_accuracy: targets must be class indices in "
                                           "[0, 2); got targets[1]=-1"),
                         ValueError);
    CHECK_THROWS_WITH_AS(nn::top_k_accuracy(Tensor<double>(xt::xarray<double>{1., 0.}),
                                            Tensor<double>(xt::xarray<double>{1., 0.}), 1),
                         doctest::Contains("got scores=[2]"), ShapeError);
}
