package org.metagrad.meta.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The two class splits of Omniglot used in the meta-learning literature, computed from the list of
 * all 1623 characters ({@link OmniglotReader#allCharacters()}).
 *
 * <ul>
 *   <li>{@link #maml}: Finn et al. 2017's scheme. Their code merges both halves, shuffles the 1623
 *       characters with Python's {@code random.seed(1)} and takes 1200 for meta-training, of which
 *       the last 100 are held out for validation ({@code num_val = 100}), and the remaining 423 for
 *       test. Their order depends on {@code os.listdir} and Python's generator, so it cannot be
 *       reproduced; we sort the characters, shuffle with our own Fisher-Yates on
 *       {@code java.util.SplittableRandom(seed)} with {@link #MAML_SEED} = 1, and cut
 *       1100 / 100 / 423. Same sizes, different (but fixed) members.
 *   <li>{@link #vinyals}: the split of Vinyals et al. 2016 as published with Snell et al.'s
 *       ProtoNets code ({@code data/omniglot/splits/vinyals}) and reused by torchmeta. It is
 *       defined by alphabets, so it is reproduced exactly: validation = the background alphabets
 *       {@link #VINYALS_VAL_ALPHABETS} (172 characters); test = the evaluation alphabets
 *       {@link #VINYALS_TEST_ALPHABETS} plus {@code Gurmukhi/character42..45} (423 characters);
 *       train = every other character (1028: 25 background alphabets plus {@code Angelic},
 *       {@code Atemayar_Qelisayer}, {@code Atlantean}, {@code Aurek-Besh}, {@code Avesta},
 *       {@code Ge_ez}, {@code Glagolitic} and {@code Gurmukhi/character01..41}). Checked against
 *       ProtoNets' {@code val.txt} and torchmeta's {@code val.json}/{@code test.json}; the
 *       published files additionally list each character at rotations 0/90/180/270 (use
 *       {@link RotationMode#AS_NEW_CLASSES} for that).
 * </ul>
 *
 * <p>Both functions require exactly the 1623 characters of the full data set, so that a partial
 * copy of Omniglot cannot silently produce a different split.
 */
public final class OmniglotSplits {

  /** Seed of the MAML split's shuffle (Finn et al. used {@code random.seed(1)} in Python). */
  public static final long MAML_SEED = 1L;

  /** Number of characters in the full data set (964 background + 659 evaluation). */
  public static final int ALL_CHARACTERS = 1623;

  /** Background alphabets forming the Vinyals/ProtoNets validation classes (172 characters). */
  public static final Set<String> VINYALS_VAL_ALPHABETS =
      Set.of("Armenian", "Bengali", "Early_Aramaic", "Hebrew", "Mkhedruli_(Georgian)");

  /** Evaluation alphabets wholly in the Vinyals/ProtoNets test classes (419 characters). */
  public static final Set<String> VINYALS_TEST_ALPHABETS =
      Set.of("Kannada", "Keble", "Malayalam", "Manipuri", "Mongolian",
          "Old_Church_Slavonic_(Cyrillic)", "Oriya", "Sylheti", "Syriac_(Serto)", "Tengwar",
          "Tibetan", "ULOG");

  /** The one split alphabet: its characters from this number on are test classes. */
  private static final String VINYALS_PARTIAL_ALPHABET = "Gurmukhi";
  private static final int VINYALS_PARTIAL_FIRST_TEST = 42;

  private OmniglotSplits() {}

  /**
   * Returns the MAML split with {@link #MAML_SEED}: 1100 train, 100 val, 423 test characters.
   *
   * @param all the 1623 characters of the data set, in any order
   * @return the split, named {@code "maml-seed1"}
   * @throws IllegalArgumentException when {@code all} is not 1623 distinct characters
   */
  public static ClassSplit maml(List<CharacterId> all) {
    return maml(all, MAML_SEED);
  }

  /**
   * Returns a MAML-style split with another seed: sort, shuffle with Fisher-Yates driven by
   * {@code new SplittableRandom(seed)} (for {@code i} from {@code n-1} down to 1, swap {@code i}
   * with {@code nextInt(i + 1)}), then cut 1100 / 100 / 423.
   *
   * @param all the 1623 characters of the data set, in any order
   * @param seed the shuffle's seed
   * @return the split, named {@code "maml-seed<seed>"}
   * @throws IllegalArgumentException when {@code all} is not 1623 distinct characters
   */
  public static ClassSplit maml(List<CharacterId> all, long seed) {
    List<CharacterId> order = sortedFull(all, "maml");
    SplittableRandom rng = new SplittableRandom(seed);
    for (int i = order.size() - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      CharacterId t = order.get(i);
      order.set(i, order.get(j));
      order.set(j, t);
    }
    int nTrain = 1100;
    int nVal = 100;
    return new ClassSplit("maml-seed" + seed, order.subList(0, nTrain),
        order.subList(nTrain, nTrain + nVal), order.subList(nTrain + nVal, order.size()));
  }

  /**
   * Returns the Vinyals/ProtoNets split: 1028 train, 172 val, 423 test characters, each part in
   * natural order.
   *
   * @param all the 1623 characters of the data set, in any order
   * @return the split, named {@code "vinyals"}
   * @throws IllegalArgumentException when {@code all} is not 1623 distinct characters or the
   *     alphabets named by the split are missing
   */
  public static ClassSplit vinyals(List<CharacterId> all) {
    List<CharacterId> order = sortedFull(all, "vinyals");
    List<CharacterId> train = new ArrayList<>();
    List<CharacterId> val = new ArrayList<>();
    List<CharacterId> test = new ArrayList<>();
    for (CharacterId id : order) {
      if (id.set() == OmniglotSet.BACKGROUND && VINYALS_VAL_ALPHABETS.contains(id.alphabet())) {
        val.add(id);
      } else if (id.set() == OmniglotSet.EVALUATION
          && (VINYALS_TEST_ALPHABETS.contains(id.alphabet())
              || (id.alphabet().equals(VINYALS_PARTIAL_ALPHABET)
                  && id.number() >= VINYALS_PARTIAL_FIRST_TEST))) {
        test.add(id);
      } else {
        train.add(id);
      }
    }
    if (train.size() != 1028 || val.size() != 172 || test.size() != 423) {
      throw new IllegalArgumentException(
          "vinyals split: got " + train.size() + "/" + val.size() + "/" + test.size()
              + " train/val/test characters, expected 1028/172/423; the alphabet folders do not"
              + " match the standard Omniglot names");
    }
    return new ClassSplit("vinyals", train, val, test);
  }

  private static List<CharacterId> sortedFull(List<CharacterId> all, String split) {
    List<CharacterId> order = new ArrayList<>(all);
    order.sort(null);
    for (int i = 1; i < order.size(); i++) {
      if (order.get(i).equals(order.get(i - 1))) {
        throw new IllegalArgumentException(split + " split: character " + order.get(i) + " listed twice");
      }
    }
    if (order.size() != ALL_CHARACTERS) {
      throw new IllegalArgumentException(
          split + " split needs all " + ALL_CHARACTERS + " Omniglot characters (background and"
              + " evaluation), got " + order.size());
    }
    return order;
  }
}
