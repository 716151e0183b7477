#include "store/rotate.h"

#include <gtest/gtest.h>

#include <vector>

namespace memes::store {
namespace {

TEST(RotatePlanar, MatchesNumpyRot90OnA2x2Plane) {
  // numpy.rot90([[1,2],[3,4]]) == [[2,4],[1,3]]
  const std::vector<uint8_t> source = {1, 2, 3, 4};
  std::vector<uint8_t> target(4);
  RotatePlanar(source, target, 2, 1, 1);
  EXPECT_EQ(target, (std::vector<uint8_t>{2, 4, 1, 3}));
  RotatePlanar(source, target, 2, 1, 2);
  EXPECT_EQ(target, (std::vector<uint8_t>{4, 3, 2, 1}));
  RotatePlanar(source, target, 2, 1, 3);
  EXPECT_EQ(target, (std::vector<uint8_t>{3, 1, 4, 2}));
  RotatePlanar(source, target, 2, 1, 0);
  EXPECT_EQ(target, source);
}

TEST(RotatePlanar, FourQuarterTurnsAreIdentityPerChannel) {
  const int size = 5;
  std::vector<uint8_t> image(3 * size * size);
  for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<uint8_t>(i);
  std::vector<uint8_t> a(image.size()), b(image.size());
  RotatePlanar(image, a, size, 3, 1);
  RotatePlanar(a, b, size, 3, 3);
  EXPECT_EQ(b, image);
  RotatePlanar(image, a, size, 3, 2);
  RotatePlanar(a, b, size, 3, 2);
  EXPECT_EQ(b, image);
  // Channels stay in their planes: plane 1 holds values 25..49 after any rotation.
  RotatePlanar(image, a, size, 3, 1);
  for (int i = 0; i < size * size; ++i) {
    EXPECT_GE(a[size * size + i], 25);
    EXPECT_LT(a[size * size + i], 50);
  }
}

}  // namespace
}  // namespace memes::store
