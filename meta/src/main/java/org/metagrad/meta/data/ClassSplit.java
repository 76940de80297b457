package org.metagrad.meta.data;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A partition of characters into meta-training, meta-validation and meta-test classes.
 *
 * <p>The three lists are disjoint (checked on construction) and keep the order in which the split
 * defines them. Example: {@code OmniglotSplits.vinyals(all).train().size() == 1028}.
 *
 * @param name a short name of the split, e.g. {@code "maml-seed1"}
 * @param train meta-training classes
 * @param val meta-validation classes
 * @param test meta-test classes
 */
public record ClassSplit(String name, List<CharacterId> train, List<CharacterId> val, List<CharacterId> test) {

  /**
   * Copies the lists and checks that no character appears twice.
   *
   * @param name the {@code name} component (see the record's description)
   * @param train the {@code train} component (see the record's description)
   * @param val the {@code val} component (see the record's description)
   * @param test the {@code test} component (see the record's description)
   * @throws IllegalArgumentException when a character appears in two parts or twice in one
   */
  public ClassSplit {
    train = List.copyOf(train);
    val = List.copyOf(val);
    test = List.copyOf(test);
    Set<CharacterId> seen = new HashSet<>();
    for (List<CharacterId> part : List.of(train, val, test)) {
      for (CharacterId id : part) {
        if (!seen.add(id)) {
          throw new IllegalArgumentException("ClassSplit " + name + ": character " + id + " appears twice");
        }
      }
    }
  }

  /**
   * Returns {@code train} followed by {@code val}, for training on both once hyper-parameters are
   * fixed.
   *
   * @return a new unmodifiable list
   */
  public List<CharacterId> trainVal() {
    List<CharacterId> out = new java.util.ArrayList<>(train);
    out.addAll(val);
    return List.copyOf(out);
  }
}
