package org.metagrad.meta.data;

import java.util.Comparator;
import java.util.Objects;

/**
 * Identifies one Omniglot character (one class) by set, alphabet folder and character folder.
 *
 * <p>The natural order (set, then alphabet, then character, by {@link String#compareTo}) is the
 * order in which {@link OmniglotReader} lists and loads characters. Example:
 * {@code new CharacterId(OmniglotSet.BACKGROUND, "Alphabet_of_the_Magi", "character01")} prints as
 * {@code images_background/Alphabet_of_the_Magi/character01}.
 *
 * @param set the half of Omniglot the character belongs to
 * @param alphabet the alphabet's folder name, e.g. {@code "Japanese_(katakana)"}
 * @param character the character's folder name, e.g. {@code "character07"}
 */
public record CharacterId(OmniglotSet set, String alphabet, String character)
    implements Comparable<CharacterId> {

  private static final Comparator<CharacterId> ORDER =
      Comparator.comparing(CharacterId::set)
          .thenComparing(CharacterId::alphabet)
          .thenComparing(CharacterId::character);

  /**
   * Validates the components.
   *
   * @param set the {@code set} component (see the record's description)
   * @param alphabet the {@code alphabet} component (see the record's description)
   * @param character the {@code character} component (see the record's description)
   * @throws NullPointerException when a component is null
   * @throws IllegalArgumentException when a name is empty or contains a path separator
   */
  public CharacterId {
    Objects.requireNonNull(set, "set");
    Objects.requireNonNull(alphabet, "alphabet");
    Objects.requireNonNull(character, "character");
    for (String s : new String[] {alphabet, character}) {
      if (s.isEmpty() || s.contains("/") || s.contains("\\")) {
        throw new IllegalArgumentException("CharacterId: invalid folder name '" + s + "'");
      }
    }
  }

  /**
   * Returns the character's folder relative to the Omniglot root.
   *
   * @return e.g. {@code "images_background/Alphabet_of_the_Magi/character01"}
   */
  public String path() {
    return set.folder() + "/" + alphabet + "/" + character;
  }

  /**
   * Returns the character's number within its alphabet, parsed from {@code characterNN}.
   *
   * @return the number, e.g. 7 for {@code "character07"}
   * @throws IllegalStateException when the folder name is not {@code character} plus digits
   */
  public int number() {
    if (!character.matches("character\\d+")) {
      throw new IllegalStateException("not a characterNN folder name: " + path());
    }
    return Integer.parseInt(character.substring("character".length()));
  }

  /** Orders by set, alphabet, then character. */
  @Override
  public int compareTo(CharacterId o) {
    return ORDER.compare(this, o);
  }

  /** Returns {@link #path()}. */
  @Override
  public String toString() {
    return path();
  }
}
