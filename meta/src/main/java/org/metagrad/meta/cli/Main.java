package org.metagrad.meta.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Locale;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.metagrad.nn.io.CheckpointException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code metagrad} command line. With no subcommand it runs the embedded default: second-order MAML
 * on sine-wave regression, with a plot of the fit and a finite-difference check of the meta-gradient.
 * Subcommands: {@code train}, {@code eval}, {@code oneshot}, {@code export}, {@code gradcheck}, {@code sine},
 * {@code devices}, {@code learn-optimizer}; {@code metagrad <subcommand> --help} explains each option.
 *
 * <p>Exit status:
 * <ul>
 *   <li>0: success;
 *   <li>1 ({@link #CHECK_FAILED}): the command ran and a check it performs failed (gradcheck, sine);
 *   <li>2 ({@link #USAGE_ERROR}): bad input: an option, a data file, a run folder, a checkpoint;
 *   <li>3 ({@link #DIVERGED}): {@code train} met a non-finite loss, gradient or parameter and stopped; the
 *       message names the iteration and the last good checkpoint, which is kept;
 *   <li>70 ({@link #INTERNAL_ERROR}, EX_SOFTWARE of sysexits.h): a bug in Metagrad.
 * </ul>
 *
 * <p>Errors take one path (see {@link #run}): every error is ONE line on stderr,
 * {@code metagrad <command>: error: <message>}, line breaks in the message folded. Bad input is every
 * {@link IllegalArgumentException}, {@link IllegalStateException}, {@link UncheckedIOException},
 * {@link IOException}, {@link CheckpointException} and picocli's parameter errors (unknown option, a
 * value that does not parse), whatever thread threw it; its message names the option or the file. An
 * {@link OutOfMemoryError} is reported the same way (exit 2), since what the user asked for (a size, a
 * batch, a thread count) did not fit the heap given: the line says so and suggests {@code -Xmx}. Anything
 * else (a NullPointerException, an assertion) is a bug: one line naming the exception and where it came
 * from, a hint to rerun with {@code -Dmetagrad.stacktrace=true}, exit 70. With that property every error
 * also prints its stack trace after the line.
 *
 * <pre>{@code java --add-modules jdk.incubator.vector -jar meta/target/metagrad.jar [subcommand] [options]}</pre>
 */
@Command(name = "metagrad", mixinStandardHelpOptions = true, version = "metagrad 0.1.0",
    description = {"Few-shot meta-learning with higher-order autodiff on the JVM.",
        "Without a subcommand: the sine-wave MAML demo (same as 'metagrad sine').",
        "Data: Omniglot under $METAGRAD_DATA/omniglot (or --data DIR), Lake et al.'s one-shot runs under",
        "$METAGRAD_DATA/omniglot-oneshot.",
        "Exit status: 0 ok, 1 a check failed, 2 bad input (one line on stderr), 3 training diverged,",
        "70 internal error (rerun with -Dmetagrad.stacktrace=true for the stack trace)."},
    subcommands = {TrainCommand.class, EvalCommand.class, OneShotCommand.class, ExportCommand.class, PlotCommand.class, GradcheckCommand.class,
        SineCommand.class, DevicesCommand.class, LearnOptimizerCommand.class})
public final class Main implements java.util.concurrent.Callable<Integer> {
  /** Exit status for a check the command ran and that failed (gradcheck, sine). */
  public static final int CHECK_FAILED = 1;

  /** Exit status for bad arguments, missing or malformed data, run folders or checkpoints. */
  public static final int USAGE_ERROR = 2;
  /** Exit status of a training run stopped by a non-finite loss, gradient or parameter. */
  public static final int DIVERGED = 3;

  /** Exit status for an unexpected internal error (a bug), EX_SOFTWARE of sysexits.h. */
  public static final int INTERNAL_ERROR = 70;

  /** The system property that adds stack traces to error reports ({@code -Dmetagrad.stacktrace=true}). */
  public static final String STACKTRACE_PROPERTY = "metagrad.stacktrace";

  /** Entry point; exits with the command's status. */
  public static void main(String[] args) {
    // Log records (the backend's one line of effective settings, a fallback's advice) on one line each, not
    // java.util.logging's default two (date and source, then the message), unless the user chose a format.
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s: %5$s%6$s%n");
    }
    System.exit(run(args));
  }

  /** Runs the command line without exiting (tests) and returns the exit status. */
  public static int run(String... args) {
    return execute(new CommandLine(new Main()), args);
  }

  /**
   * Runs a command line with this class's error path and exit statuses (also for other programs built on
   * these commands, e.g. {@code metagrad-spark}; messages are prefixed with the root command's name).
   *
   * @param cl the command line (its subcommands get the same handlers)
   * @param args the arguments
   * @return the exit status
   */
  public static int execute(CommandLine cl, String... args) {
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> report(ex, cmd));
    cl.setParameterExceptionHandler((ex, a) -> {
      CommandLine cmd = ex.getCommandLine();
      String help = cmd.getParent() == null ? rootName(cmd) + " --help"
          : rootName(cmd) + " " + cmd.getCommandName() + " --help";
      line(cmd, oneLine(ex.getMessage()) + " (see '" + help + "')", ex);
      return USAGE_ERROR;
    });
    try {
      return cl.execute(args);
    } catch (RuntimeException | Error e) {
      // picocli hands over what the handlers throw; nothing may leave as a stack trace
      return report(e, cl);
    }
  }

  /** The single error path: one line on the command's stderr, and the exit status for {@code ex}. */
  static int report(Throwable ex, CommandLine cmd) {
    Throwable e = unwrap(ex);
    if (e instanceof org.metagrad.meta.train.TrainingDivergedException) {
      line(cmd, message(e), e);
      return DIVERGED;
    }
    if (isBadInput(e)) {
      line(cmd, message(e), e);
      return USAGE_ERROR;
    }
    if (e instanceof OutOfMemoryError oom) {
      line(cmd, "out of memory (" + oneLine(String.valueOf(oom.getMessage())) + "): give the JVM more heap"
          + " (java -Xmx...) or ask for less (a smaller --side, batch, episode count or --threads)", e);
      return USAGE_ERROR;
    }
    StackTraceElement[] st = e.getStackTrace();
    String where = st.length == 0 ? "" : " at " + st[0];
    line(cmd, "internal error: " + e.getClass().getName() + (e.getMessage() == null ? "" : ": "
        + oneLine(e.getMessage())) + where + " (a bug in metagrad; rerun with -D" + STACKTRACE_PROPERTY
        + "=true for the stack trace)", e);
    return INTERNAL_ERROR;
  }

  /** True for what the user can fix: an option, a data file, a run folder, a checkpoint. */
  static boolean isBadInput(Throwable e) {
    return e instanceof IllegalArgumentException || e instanceof IllegalStateException
        || e instanceof UncheckedIOException || e instanceof IOException || e instanceof CheckpointException
        || e instanceof CommandLine.ParameterException;
  }

  /** The exception a worker thread or a wrapper threw, without the wrappers that say nothing. */
  private static Throwable unwrap(Throwable ex) {
    Throwable e = ex;
    while ((e instanceof ExecutionException || e instanceof CompletionException
        || e instanceof java.lang.reflect.InvocationTargetException
        || e instanceof java.lang.reflect.UndeclaredThrowableException
        || e instanceof CommandLine.ExecutionException) && e.getCause() != null && e.getCause() != e) {
      e = e.getCause();
    }
    return e;
  }

  /** The user-facing text of a bad-input exception, on one line. */
  static String message(Throwable e) {
    if (e instanceof FileSystemException fs) {
      String what = fs instanceof NoSuchFileException ? "no such file or folder"
          : fs instanceof AccessDeniedException ? "permission denied" : fs.getReason();
      String file = fs.getFile() == null ? "" : fs.getFile();
      String other = fs.getOtherFile() == null ? "" : " -> " + fs.getOtherFile();
      return oneLine(file + other + (what == null ? "" : ": " + what));
    }
    if (e instanceof UncheckedIOException u && u.getCause() != null
        && (u.getMessage() == null || u.getMessage().equals(u.getCause().toString()))) {
      return message(u.getCause());
    }
    String m = e.getMessage();
    if (m == null || m.isBlank()) {
      return e.getClass().getSimpleName() + (e.getCause() == null ? "" : ": " + message(e.getCause()));
    }
    return oneLine(m);
  }

  /** Folds line breaks and runs of blanks so the message stays on one line. */
  static String oneLine(String m) {
    return m.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
  }

  private static void line(CommandLine cmd, String message, Throwable e) {
    PrintWriter err = cmd.getErr();
    String name = cmd.getParent() == null ? rootName(cmd) : rootName(cmd) + " " + cmd.getCommandName();
    err.println(name + ": error: " + message);
    if (Boolean.parseBoolean(System.getProperty(STACKTRACE_PROPERTY, "false").toLowerCase(Locale.ROOT))) {
      e.printStackTrace(err);
    }
    err.flush();
  }

  private static String rootName(CommandLine cmd) {
    CommandLine root = cmd;
    while (root.getParent() != null) {
      root = root.getParent();
    }
    return root.getCommandName();
  }

  /** Without a subcommand: the sine demo with its defaults; returns its exit status. */
  @Override
  public Integer call() {
    return new SineCommand().call();
  }
}
