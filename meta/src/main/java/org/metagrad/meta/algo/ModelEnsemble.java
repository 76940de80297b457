package org.metagrad.meta.algo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.metagrad.Autograd;
import org.metagrad.F;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.nn.Params;

/**
 * Test-time ensemble of independently trained few-shot learners: each member adapts to the task with its own
 * parameters, and the ensemble's output for a query is the mean over the members of their log-probabilities,
 * {@code (1/M) sum_m logSoftmax(logits_m)} (a normalised geometric mean of their class probabilities). The
 * log-softmax puts members on one scale: a ProtoNet's logits are negative squared distances whose size
 * depends on its embedding, a MAML head's are not.
 *
 * <p>The members' parameters travel as one {@link Params}, member {@code m}'s under the prefix {@code m<m>.}
 * ({@link #params(List)} builds it), so the ensemble is a {@link FewShotLearner} like any other: {@code
 * Evaluator}, the one-shot runner and {@link ShiftEnsemble} take it unchanged. It changes no training and no
 * parameters, and costs the sum of the members' test-time work.
 *
 * <pre>{@code
 * FewShotLearner both = ModelEnsemble.of(List.of(protoA, protoB));
 * double acc = both.evaluate(ModelEnsemble.params(List.of(paramsA, paramsB)), task);
 * }</pre>
 */
public final class ModelEnsemble implements FewShotLearner {
  private final List<FewShotLearner> members;

  private ModelEnsemble(List<FewShotLearner> members) {
    this.members = members;
  }

  /**
   * The ensemble of the given learners, in this order (member m reads the parameters under {@code m<m>.}).
   *
   * @throws IllegalArgumentException for no member or a null one
   */
  public static ModelEnsemble of(List<? extends FewShotLearner> members) {
    if (members == null || members.isEmpty()) {
      throw new IllegalArgumentException("ModelEnsemble: needs at least one member");
    }
    for (int m = 0; m < members.size(); m++) {
      if (members.get(m) == null) {
        throw new IllegalArgumentException("ModelEnsemble: member " + m + " is null");
      }
    }
    return new ModelEnsemble(List.copyOf(members));
  }

  /** The members' parameters as one set, member m's under {@code m<m>.}, in the members' order. */
  public static Params params(List<Params> perMember) {
    if (perMember == null || perMember.isEmpty()) {
      throw new IllegalArgumentException("ModelEnsemble: needs the parameters of at least one member");
    }
    Params all = Params.empty();
    for (int m = 0; m < perMember.size(); m++) {
      if (perMember.get(m) == null || perMember.get(m).size() == 0) {
        throw new IllegalArgumentException("ModelEnsemble: member " + m + " has no parameters");
      }
      all = all.merge(perMember.get(m).prefixed(prefix(m)));
    }
    return all;
  }

  /** Not for training: an ensemble is assembled from members trained on their own. */
  @Override
  public Params initMetaParams(Params modelParams, org.metagrad.Rng rng) {
    throw new UnsupportedOperationException("ModelEnsemble is a test-time device: train each member on its own"
        + " and join their parameters with ModelEnsemble.params");
  }

  /** The members, in order. */
  public List<FewShotLearner> members() {
    return members;
  }

  /** Each member adapted with its own parameters; the results under the same prefixes. */
  @Override
  public Params adapt(Params params, FewShotTask task) {
    Params out = Params.empty();
    for (int m = 0; m < members.size(); m++) {
      out = out.merge(members.get(m).adapt(memberParams(params, m), task).prefixed(prefix(m)));
    }
    return out;
  }

  /** The mean over the members of {@code logSoftmax(member logits, 1)}, {@code [n, ways]}. */
  @Override
  public Tensor predict(Params adapted, Tensor x) {
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      Tensor sum = null;
      int[] first = null;
      for (int m = 0; m < members.size(); m++) {
        Tensor logits = members.get(m).predict(memberParams(adapted, m), x);
        if (logits.rank() != 2) {
          throw new IllegalArgumentException("ModelEnsemble: member " + m + " gave outputs of shape "
              + Arrays.toString(logits.shape()) + ", not class logits [n, ways]");
        }
        if (first == null) {
          first = logits.shape();
        } else if (!Arrays.equals(first, logits.shape())) {
          throw new IllegalArgumentException("ModelEnsemble: member " + m + " gave logits of shape "
              + Arrays.toString(logits.shape()) + ", member 0 " + Arrays.toString(first));
        }
        Tensor lp = F.logSoftmax(logits, 1);
        sum = sum == null ? lp : sum.add(lp);
      }
      return sum.div(members.size());
    }
  }

  private static Params memberParams(Params params, int m) {
    Params p = params.sub(prefix(m));
    if (p.size() == 0) {
      throw new IllegalArgumentException("ModelEnsemble: no parameters under '" + prefix(m) + ".' for member " + m
          + " (build them with ModelEnsemble.params)");
    }
    return p;
  }

  private static String prefix(int m) {
    return "m" + m;
  }

  @Override
  public String toString() {
    List<String> names = new ArrayList<>();
    for (FewShotLearner l : members) {
      names.add(String.valueOf(l));
    }
    return "ModelEnsemble" + names;
  }
}
