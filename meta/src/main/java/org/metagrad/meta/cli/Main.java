package org.metagrad.meta.cli;

import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code metagrad} command line. With no subcommand it runs the embedded default: second-order MAML
 * on sine-wave regression, with a plot of the fit and a finite-difference check of the meta-gradient.
 * Subcommands: {@code train}, {@code eval}, {@code oneshot}, {@code gradcheck}, {@code sine},
 * {@code devices}; {@code metagrad <subcommand> --help} explains each option.
 *
 * <p>Exit status: 0 on success, 1 when a check fails (gradcheck, sine), 2 for bad arguments or missing data
 * (with a one-line message on stderr naming the problem), 3 when training diverged ({@code train} met a
 * non-finite loss, gradient or parameter; the message names the iteration and the last good checkpoint).
 *
 * <pre>{@code java --add-modules jdk.incubator.vector -jar meta/target/metagrad.jar [subcommand] [options]}</pre>
 */
@Command(name = "metagrad", mixinStandardHelpOptions = true, version = "metagrad 0.1.0",
    description = {"Few-shot meta-learning with higher-order autodiff on the JVM.",
        "Without a subcommand: the sine-wave MAML demo (same as 'metagrad sine').",
        "Data: Omniglot under $METAGRAD_DATA/omniglot (or --data DIR), Lake et al.'s one-shot runs under",
        "$METAGRAD_DATA/omniglot-oneshot."},
    subcommands = {TrainCommand.class, EvalCommand.class, OneShotCommand.class, GradcheckCommand.class,
        SineCommand.class, DevicesCommand.class})
public final class Main implements java.util.concurrent.Callable<Integer> {
  /** Exit status for bad arguments, missing data or other usage errors. */
  public static final int USAGE_ERROR = 2;
  /** Exit status of a training run stopped by a non-finite loss, gradient or parameter. */
  public static final int DIVERGED = 3;

  /** Entry point; exits with the command's status. */
  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line without exiting (tests) and returns the exit status. */
  public static int run(String... args) {
    CommandLine cl = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
      if (ex instanceof org.metagrad.meta.train.TrainingDivergedException) {
        cmd.getErr().println("metagrad " + cmd.getCommandName() + ": error: " + ex.getMessage());
        cmd.getErr().flush();
        return DIVERGED;
      }
      if (ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
          || ex instanceof UncheckedIOException) {
        cmd.getErr().println("metagrad " + cmd.getCommandName() + ": error: " + ex.getMessage());
        cmd.getErr().flush();
        return USAGE_ERROR;
      }
      throw ex;
    });
    return cl.execute(args);
  }

  /** Without a subcommand: the sine demo with its defaults; returns its exit status. */
  @Override
  public Integer call() {
    return new SineCommand().call();
  }
}
