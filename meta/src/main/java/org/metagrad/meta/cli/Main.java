package org.metagrad.meta.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code metagrad} command line. With no subcommand it runs the embedded default: second-order MAML
 * on sine-wave regression, with a plot of the fit and a finite-difference check of the meta-gradient.
 *
 * <pre>{@code java --add-modules jdk.incubator.vector -jar meta/target/metagrad.jar [subcommand] [options]}</pre>
 */
@Command(name = "metagrad", mixinStandardHelpOptions = true, version = "metagrad 0.1.0",
    description = "Few-shot meta-learning with higher-order autodiff on the JVM.%n"
        + "Without a subcommand: the sine-wave MAML demo (same as 'metagrad sine').",
    subcommands = {SineCommand.class, DevicesCommand.class})
public final class Main implements Runnable {

  /** Entry point; exits with the command's status. */
  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line without exiting (tests). */
  public static int run(String... args) {
    return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
  }

  @Override
  public void run() {
    new CommandLine(new SineCommand()).execute();
  }
}
