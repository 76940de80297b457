package org.metagrad.meta.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The sampler on an in-memory pool whose pixels identify (class, image). */
class EpisodeSamplerTest {

  private static final int SIDE = 4;
  private static final int P = SIDE * SIDE;

  /** Image i of class c: pixel 0 = c*1000 + i + 1, the rest a class/image-specific ramp. */
  private static ImageClasses pool(int classes, int images) {
    List<CharacterId> ids = new ArrayList<>();
    List<float[]> px = new ArrayList<>();
    for (int c = 0; c < classes; c++) {
      ids.add(new CharacterId(OmniglotSet.BACKGROUND, "A", String.format("character%02d", c + 1)));
      float[] a = new float[images * P];
      for (int i = 0; i < images; i++) {
        for (int k = 0; k < P; k++) {
          a[i * P + k] = c * 1000 + i + 1 + k * 0.001f;
        }
      }
      px.add(a);
    }
    return ImageClasses.of(SIDE, ids, px);
  }

  private static void assertSameEpisode(Episode a, Episode b) {
    assertThat(a.index()).isEqualTo(b.index());
    assertThat(a.supportX()).containsExactly(b.supportX());
    assertThat(a.supportY()).containsExactly(b.supportY());
    assertThat(a.queryX()).containsExactly(b.queryX());
    assertThat(a.queryY()).containsExactly(b.queryY());
    assertThat(a.classIndices()).containsExactly(b.classIndices());
    assertThat(a.rotations()).containsExactly(b.rotations());
    assertThat(a.classIds()).isEqualTo(b.classIds());
  }

  @Test
  void sameSeedSameEpisodesDifferentSeedDifferent() {
    ImageClasses pool = pool(30, 20);
    EpisodeSampler a = new EpisodeSampler(pool, TaskSpec.of(5, 1, 15), RotationMode.RANDOM_PER_TASK, 42);
    EpisodeSampler b = new EpisodeSampler(pool, TaskSpec.of(5, 1, 15), RotationMode.RANDOM_PER_TASK, 42);
    EpisodeSampler c = new EpisodeSampler(pool, TaskSpec.of(5, 1, 15), RotationMode.RANDOM_PER_TASK, 43);
    try (EpisodeSource sa = a.sequential()) {
      for (int i = 0; i < 20; i++) {
        Episode e = sa.next();
        assertSameEpisode(e, b.episode(i));
        assertThat(e.index()).isEqualTo(i);
      }
    }
    assertThat(a.episode(0).supportX()).isNotEqualTo(c.episode(0).supportX());
    assertThat(a.episode(0).supportX()).isNotEqualTo(a.episode(1).supportX());
  }

  @Test
  void layoutLabelsAndDisjointSupportAndQuery() {
    ImageClasses pool = pool(12, 20);
    TaskSpec spec = TaskSpec.of(5, 3, 4);
    EpisodeSampler s = new EpisodeSampler(pool, spec, RotationMode.NONE, 7);
    for (int e = 0; e < 50; e++) {
      Episode ep = s.episode(e);
      assertThat(ep.supportX()).hasSize(5 * 3 * P);
      assertThat(ep.queryX()).hasSize(5 * 4 * P);
      assertThat(ep.supportY()).containsExactly(0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4);
      assertThat(ep.queryY())
          .containsExactly(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4);
      assertThat(ep.rotations()).containsOnly(0);
      assertThat(new HashSet<>(ep.classIds())).hasSize(5);
      Set<Float> seen = new HashSet<>();
      for (int j = 0; j < 3 * 5; j++) {
        float tag = ep.supportX()[j * P];
        int cls = ep.classIndices()[ep.supportY()[j]];
        assertThat((int) tag / 1000).isEqualTo(cls);
        assertThat(seen.add(tag)).as("support images distinct").isTrue();
      }
      for (int j = 0; j < 4 * 5; j++) {
        float tag = ep.queryX()[j * P];
        int cls = ep.classIndices()[ep.queryY()[j]];
        assertThat((int) tag / 1000).isEqualTo(cls);
        assertThat(seen.add(tag)).as("query image disjoint from support and other queries").isTrue();
      }
      for (int n = 0; n < 5; n++) {
        assertThat(ep.classIds().get(n)).isEqualTo(pool.id(ep.classIndices()[n]));
      }
    }
  }

  @Test
  void rotationsAreAppliedConsistently() {
    ImageClasses pool = pool(3, 6);
    EpisodeSampler s = new EpisodeSampler(pool, TaskSpec.of(3, 2, 2), RotationMode.RANDOM_PER_TASK, 5);
    Set<Integer> rotationsSeen = new HashSet<>();
    for (int e = 0; e < 40; e++) {
      Episode ep = s.episode(e);
      for (int j = 0; j < 6; j++) {
        int n = ep.supportY()[j];
        float[] img = java.util.Arrays.copyOfRange(ep.supportX(), j * P, (j + 1) * P);
        int rot = ep.rotations()[n];
        rotationsSeen.add(rot);
        float[] unrotated = Images.rotate(img, SIDE, -rot);
        int i = (int) (unrotated[0] - ep.classIndices()[n] * 1000) - 1;
        assertThat(unrotated).containsExactly(pool.image(ep.classIndices()[n], i));
      }
    }
    assertThat(rotationsSeen).containsExactlyInAnyOrder(0, 1, 2, 3);
  }

  @Test
  void rotationsAsNewClassesQuadrupleThePool() {
    ImageClasses pool = pool(2, 5);
    EpisodeSampler s = new EpisodeSampler(pool, TaskSpec.of(8, 1, 1), RotationMode.AS_NEW_CLASSES, 1);
    assertThat(s.classCount()).isEqualTo(8);
    Episode ep = s.episode(0);
    Set<String> pairs = new HashSet<>();
    for (int n = 0; n < 8; n++) {
      pairs.add(ep.classIndices()[n] + "@" + ep.rotations()[n]);
    }
    assertThat(pairs).hasSize(8);
    assertThatThrownBy(() -> new EpisodeSampler(pool, TaskSpec.of(9, 1, 1), RotationMode.AS_NEW_CLASSES, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("9-way task needs 9 classes but the pool has 8 (2 characters x 4 rotations)");
  }

  /** Alphabets A (3 characters), B (6), C (8): class c belongs to the alphabet named at its index. */
  private static ImageClasses alphabets() {
    String[] names = {"A", "A", "A", "B", "B", "B", "B", "B", "B", "C", "C", "C", "C", "C", "C", "C", "C"};
    List<CharacterId> ids = new ArrayList<>();
    List<float[]> px = new ArrayList<>();
    for (int c = 0; c < names.length; c++) {
      ids.add(new CharacterId(OmniglotSet.EVALUATION, names[c], String.format("character%02d", c + 1)));
      float[] a = new float[3 * P];
      java.util.Arrays.fill(a, c);
      px.add(a);
    }
    return ImageClasses.of(SIDE, ids, px);
  }

  @Test
  void sameAlphabetTasksStayInsideOneEligibleAlphabet() {
    ImageClasses pool = alphabets();
    EpisodeSampler s = new EpisodeSampler(pool, TaskSpec.of(5, 1, 2), RotationMode.NONE, ClassGrouping.SAME_ALPHABET, 9);
    assertThat(s.grouping()).isEqualTo(ClassGrouping.SAME_ALPHABET);
    assertThat(s.alphabetCount()).isEqualTo(2); // A has only 3 characters
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      Episode e = s.episode(i);
      Set<String> alphabets = new HashSet<>();
      Set<Integer> classes = new HashSet<>();
      for (int n = 0; n < 5; n++) {
        alphabets.add(e.classIds().get(n).alphabet());
        classes.add(e.classIndices()[n]);
        // every image of the class carries the class's value: support and queries really are that class
        assertThat(e.supportX()[n * P]).isEqualTo((float) e.classIndices()[n]);
        assertThat(e.queryX()[2 * n * P]).isEqualTo((float) e.classIndices()[n]);
      }
      assertThat(alphabets).hasSize(1);
      assertThat(classes).hasSize(5);
      seen.addAll(alphabets);
      assertSameEpisode(e, new EpisodeSampler(pool, TaskSpec.of(5, 1, 2), RotationMode.NONE,
          ClassGrouping.SAME_ALPHABET, 9).episode(i));
    }
    assertThat(seen).containsExactlyInAnyOrder("B", "C");
    // with rotations as classes, A's 3 characters make 12 classes and become eligible
    EpisodeSampler r = new EpisodeSampler(pool, TaskSpec.of(10, 1, 1), RotationMode.AS_NEW_CLASSES,
        ClassGrouping.SAME_ALPHABET, 9);
    assertThat(r.alphabetCount()).isEqualTo(3);
    // ANY keeps the four-argument constructor's sequence exactly
    EpisodeSampler any = new EpisodeSampler(pool, TaskSpec.of(5, 1, 2), RotationMode.NONE, ClassGrouping.ANY, 9);
    assertSameEpisode(any.episode(3), new EpisodeSampler(pool, TaskSpec.of(5, 1, 2), RotationMode.NONE, 9).episode(3));
    assertThat(any.alphabetCount()).isZero();
    assertThatThrownBy(() -> new EpisodeSampler(pool, TaskSpec.of(9, 1, 1), RotationMode.NONE,
        ClassGrouping.SAME_ALPHABET, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("9-way within-alphabet task needs an alphabet with 9 classes but the largest of the pool's 3 alphabets has 8");
  }

  /**
   * LAKE_RUN, as Lake et al.'s runs: one alphabet, upright whatever the rotation mode, and support (query) position
   * t of every class drawn by the same drawer, the K + Q drawers distinct.
   */
  @Test
  void lakeRunTasksAreUprightWithinOneAlphabetAndOneDrawerPerPosition() {
    // alphabet A: classes 0-5 (6 characters), alphabet B: classes 6-8 (3), 8 images (drawers) each
    List<CharacterId> ids = new ArrayList<>();
    List<float[]> px = new ArrayList<>();
    ImageClasses ramp = pool(9, 8);
    for (int c = 0; c < 9; c++) {
      ids.add(new CharacterId(OmniglotSet.EVALUATION, c < 6 ? "A" : "B", String.format("character%02d", c + 1)));
      float[] a = new float[8 * P];
      for (int i = 0; i < 8; i++) {
        System.arraycopy(ramp.image(c, i), 0, a, i * P, P);
      }
      px.add(a);
    }
    ImageClasses pool = ImageClasses.of(SIDE, ids, px);
    TaskSpec spec = TaskSpec.of(5, 2, 3);
    EpisodeSampler s = new EpisodeSampler(pool, spec, RotationMode.AS_NEW_CLASSES, ClassGrouping.LAKE_RUN, 5);
    assertThat(s.grouping()).isEqualTo(ClassGrouping.LAKE_RUN);
    assertThat(s.alphabetCount()).isEqualTo(1); // B's 3 upright characters are too few, rotations do not count
    assertThat(s.classCount()).isEqualTo(9);
    Set<String> drawerSets = new HashSet<>();
    for (int e = 0; e < 100; e++) {
      Episode ep = s.episode(e);
      int[] drawers = new int[5];
      Set<Integer> classes = new HashSet<>();
      for (int n = 0; n < 5; n++) {
        int c = ep.classIndices()[n];
        classes.add(c);
        assertThat(c).isLessThan(6);
        assertThat(ep.rotations()[n]).isZero();
        for (int t = 0; t < 5; t++) {
          float[] x = ep.supportX();
          int off = (n * 2 + t) * P;
          if (t >= 2) {
            x = ep.queryX();
            off = (n * 3 + t - 2) * P;
          }
          // pixel 0 names (class, image); the whole image is the upright stored one
          int drawer = Math.round(x[off] - c * 1000 - 1);
          assertThat(java.util.Arrays.copyOfRange(x, off, off + P)).containsExactly(pool.image(c, drawer));
          if (n == 0) {
            drawers[t] = drawer;
          } else {
            assertThat(drawer).as("episode %d class %d position %d", e, n, t).isEqualTo(drawers[t]);
          }
        }
      }
      assertThat(classes).hasSize(5);
      assertThat(java.util.Arrays.stream(drawers).distinct().count()).isEqualTo(5);
      drawerSets.add(java.util.Arrays.toString(drawers));
      assertSameEpisode(ep, new EpisodeSampler(pool, spec, RotationMode.NONE, ClassGrouping.LAKE_RUN, 5).episode(e));
    }
    assertThat(drawerSets.size()).isGreaterThan(50); // drawers are drawn per episode
    assertThatThrownBy(() -> new EpisodeSampler(pool, TaskSpec.of(7, 1, 1), RotationMode.AS_NEW_CLASSES,
        ClassGrouping.LAKE_RUN, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("7-way within-alphabet task needs an alphabet with 7 classes but the largest of the pool's"
            + " 2 alphabets has 6");
  }

  @Test
  void distortionKeepsTheEpisodesChoicesAndIsAPureFunctionOfTheIndex() throws Exception {
    ImageClasses pool = pool(30, 20);
    EpisodeSampler plain = new EpisodeSampler(pool, TaskSpec.of(5, 2, 3), RotationMode.RANDOM_PER_TASK, 42);
    EpisodeSampler warped = plain.withDistortion(Distortion.AFFINE);
    assertThat(plain.distortion()).isEqualTo(Distortion.NONE);
    assertThat(warped.distortion()).isEqualTo(Distortion.AFFINE);
    // NONE gives the plain sampler's episodes bit for bit.
    assertSameEpisode(plain.withDistortion(Distortion.NONE).episode(4), plain.episode(4));
    try (EpisodeSource prefetched = warped.prefetching(2)) {
      for (int i = 0; i < 10; i++) {
        Episode a = plain.episode(i);
        Episode b = warped.episode(i);
        // Same classes, rotations, labels; other pixels.
        assertThat(b.classIndices()).containsExactly(a.classIndices());
        assertThat(b.rotations()).containsExactly(a.rotations());
        assertThat(b.classIds()).isEqualTo(a.classIds());
        assertThat(b.supportY()).containsExactly(a.supportY());
        assertThat(b.queryY()).containsExactly(a.queryY());
        assertThat(b.supportX()).hasSameSizeAs(a.supportX()).isNotEqualTo(a.supportX());
        assertThat(b.queryX()).isNotEqualTo(a.queryX());
        // Deterministic: again, from a new sampler, and through the prefetching thread.
        assertSameEpisode(b, new EpisodeSampler(pool, TaskSpec.of(5, 2, 3), RotationMode.RANDOM_PER_TASK, 42)
            .withDistortion(Distortion.AFFINE).episode(i));
        assertSameEpisode(prefetched.next(), b);
      }
    }
  }

  @Test
  void clearErrorsForImpossibleTasks() {
    ImageClasses pool = pool(4, 20);
    assertThatThrownBy(() -> new EpisodeSampler(pool, TaskSpec.of(5, 1, 1), RotationMode.NONE, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("5-way task needs 5 classes but the pool has 4");
    assertThatThrownBy(() -> new EpisodeSampler(pool, TaskSpec.of(2, 5, 16), RotationMode.NONE, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("need 21 images per class")
        .hasMessageContaining("has 20");
    assertThatThrownBy(() -> TaskSpec.of(0, 1, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ways >= 1");
  }

  @Test
  void prefetchingGivesTheSameOrderAndStopsOnClose() throws Exception {
    ImageClasses pool = pool(20, 20);
    EpisodeSampler s = new EpisodeSampler(pool, TaskSpec.of(5, 5, 5), RotationMode.RANDOM_PER_TASK, 99);
    PrefetchingEpisodeSource pre = (PrefetchingEpisodeSource) s.prefetching(3);
    try (EpisodeSource seq = s.sequential()) {
      for (int i = 0; i < 60; i++) {
        assertSameEpisode(pre.next(), seq.next());
      }
    }
    pre.close();
    assertThat(pre.workerStopped()).isTrue();
    assertThatThrownBy(pre::next).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    pre.close(); // idempotent
    assertThatThrownBy(() -> s.prefetching(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("capacity");
  }

  @Test
  void episodeRejectsNegativeIndex() {
    EpisodeSampler s = new EpisodeSampler(pool(3, 3), TaskSpec.of(2, 1, 1), RotationMode.NONE, 0);
    assertThatThrownBy(() -> s.episode(-1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("index must be >= 0");
  }
}
