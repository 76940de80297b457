package org.metagrad.meta.cli;

import java.util.Arrays;
import java.util.Iterator;
import org.metagrad.meta.train.Algorithm;

/** The algorithm names, for picocli's {@code ${COMPLETION-CANDIDATES}} in help texts. */
public final class AlgorithmNames implements Iterable<String> {
  /** Iterates over the command-line names of {@link Algorithm}. */
  @Override
  public Iterator<String> iterator() {
    return Arrays.stream(Algorithm.values()).map(Algorithm::cliName).iterator();
  }
}
