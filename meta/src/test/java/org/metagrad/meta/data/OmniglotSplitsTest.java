package org.metagrad.meta.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Split sizes and disjointness on the real character list (no decoding needed). */
class OmniglotSplitsTest {

  private static List<CharacterId> all() {
    return TestImages.sharedReader().allCharacters();
  }

  private static void assertPartition(ClassSplit s, List<CharacterId> all) {
    Set<CharacterId> union = new HashSet<>(s.train());
    union.addAll(s.val());
    union.addAll(s.test());
    assertThat(union).hasSize(s.train().size() + s.val().size() + s.test().size());
    assertThat(union).containsExactlyInAnyOrderElementsOf(all);
    assertThat(s.train()).doesNotContainAnyElementsOf(s.val()).doesNotContainAnyElementsOf(s.test());
    assertThat(s.val()).doesNotContainAnyElementsOf(s.test());
  }

  @Test
  void mamlSplitSizesDisjointAndDeterministic() {
    List<CharacterId> all = all();
    ClassSplit s = OmniglotSplits.maml(all);
    assertThat(s.name()).isEqualTo("maml-seed1");
    assertThat(s.train()).hasSize(1100);
    assertThat(s.val()).hasSize(100);
    assertThat(s.test()).hasSize(423);
    assertThat(s.trainVal()).hasSize(1200);
    assertPartition(s, all);
    List<CharacterId> shuffled = new ArrayList<>(all);
    Collections.reverse(shuffled);
    assertThat(OmniglotSplits.maml(shuffled)).as("input order is irrelevant").isEqualTo(s);
    ClassSplit other = OmniglotSplits.maml(all, 2);
    assertThat(other.test()).isNotEqualTo(s.test());
    // Both halves are mixed, as in Finn et al.'s code.
    assertThat(s.test().stream().map(CharacterId::set).distinct()).hasSize(2);
  }

  @Test
  void vinyalsSplitMatchesThePublishedAlphabets() {
    List<CharacterId> all = all();
    ClassSplit s = OmniglotSplits.vinyals(all);
    assertThat(s.train()).hasSize(1028);
    assertThat(s.val()).hasSize(172);
    assertThat(s.test()).hasSize(423);
    assertPartition(s, all);
    assertThat(s.val().stream().map(CharacterId::alphabet).collect(Collectors.toSet()))
        .isEqualTo(OmniglotSplits.VINYALS_VAL_ALPHABETS);
    assertThat(s.test()).allMatch(id -> id.set() == OmniglotSet.EVALUATION);
    CharacterId g41 = new CharacterId(OmniglotSet.EVALUATION, "Gurmukhi", "character41");
    CharacterId g42 = new CharacterId(OmniglotSet.EVALUATION, "Gurmukhi", "character42");
    assertThat(s.train()).contains(g41);
    assertThat(s.test()).contains(g42);
    assertThat(s.test().get(0)).isEqualTo(g42);
  }

  @Test
  void incompleteListsAreRejected() {
    List<CharacterId> all = all();
    assertThatThrownBy(() -> OmniglotSplits.maml(all.subList(0, 964)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("needs all 1623")
        .hasMessageContaining("got 964");
    List<CharacterId> dup = new ArrayList<>(all);
    dup.set(1, dup.get(0));
    assertThatThrownBy(() -> OmniglotSplits.vinyals(dup))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("listed twice");
    assertThatThrownBy(() -> new ClassSplit("x", List.of(all.get(0)), List.of(all.get(0)), List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("appears twice");
  }
}
