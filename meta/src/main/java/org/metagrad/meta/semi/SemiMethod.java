package org.metagrad.meta.semi;

import org.metagrad.meta.train.Algorithm;

/**
 * The learning-with-few-labels methods of this package: the supervised-only baseline, five semi-supervised
 * methods (trained on labelled and unlabelled drawings together) and two self-supervised pre-trainings
 * (trained on the drawings without labels, then evaluated by a linear probe and by fine-tuning on the
 * labelled ones).
 */
public enum SemiMethod {
  /** Cross-entropy on the labelled drawings only (with weak augmentation). */
  SUPERVISED,
  /** Pi-model (Laine and Aila 2017): squared-error consistency between two augmented views. */
  PIMODEL,
  /** Mean Teacher (Tarvainen and Valpola 2017): consistency with an EMA teacher's prediction. */
  MEANTEACHER,
  /** Virtual adversarial training (Miyato et al. 2018): KL under the adversarial perturbation. */
  VAT,
  /** Pseudo-labelling (Lee 2013) with a confidence threshold. */
  PSEUDOLABEL,
  /** FixMatch (Sohn et al. 2020): confident weak-view pseudo-labels train the strong views. */
  FIXMATCH,
  /** SimCLR (Chen et al. 2020): NT-Xent over two views with a projection head. */
  SIMCLR,
  /** BYOL (Grill et al. 2020): online network with predictor regresses an EMA target's projection. */
  BYOL;

  /** The {@link Algorithm} of this method (the same name; {@link Algorithm#fewLabels()} holds for it). */
  public Algorithm algorithm() {
    return Algorithm.valueOf(name());
  }

  /** The command-line name. @return e.g. {@code meanteacher} */
  public String cliName() {
    return algorithm().cliName();
  }

  /** Whether the method pre-trains without labels (then probes and fine-tunes). @return true for SimCLR, BYOL */
  public boolean selfSupervised() {
    return algorithm().selfSupervised();
  }

  /**
   * The method of a command-line name ({@link Algorithm#parse}'s spelling rules).
   *
   * @param name e.g. {@code fixmatch} (case-insensitive)
   * @return the method
   * @throws IllegalArgumentException for an unknown name, listing the known ones
   */
  public static SemiMethod parse(String name) {
    for (SemiMethod m : values()) {
      try {
        if (Algorithm.parse(name) == m.algorithm()) {
          return m;
        }
      } catch (IllegalArgumentException unknown) {
        break;
      }
    }
    StringBuilder known = new StringBuilder();
    for (SemiMethod m : values()) {
      known.append(known.length() == 0 ? "" : ", ").append(m.cliName());
    }
    throw new IllegalArgumentException("unknown semi-/self-supervised method '" + name + "'; known: " + known);
  }
}
