package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.data.RawPng;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.MetaTrainer;

/**
 * The corrupt-input corpus: a hostile user's inputs, made by the test in a temporary folder (truncated,
 * garbage and huge-header PNGs in an Omniglot-layout data folder and in one-shot runs, safetensors files with
 * hostile headers, broken config.json files, one-shot runs with missing or extra files, FIFOs), each met by a
 * command ({@code eval}, {@code oneshot}, {@code train --resume}, {@code gradcheck}, {@code sine}) through
 * {@link Main#run}. Every case must end with exit status 2 and exactly one non-empty line on stderr that names
 * the bad file (or option) and carries no stack trace, within a time limit (a FIFO must not hang a command).
 * The fixture is a real run folder trained for one iteration on a 6-character Omniglot-layout folder.
 */
class CorruptInputCorpusTest {

  private static final Duration LIMIT = Duration.ofSeconds(60);
  private static final String[] CHARS = {"character01", "character02", "character03"};

  @TempDir
  static Path tmp;

  private static Path data;
  private static Path runDir;
  private static Path oneShot;
  private static String[] trainArgs;

  /** Minimum number of cases: the corpus must not shrink silently. */
  static final int MIN_CASES = 174;

  @BeforeAll
  static void fixture() throws Exception {
    data = tmp.resolve("data");
    for (String set : new String[] {"images_background/Hebrew", "images_evaluation/Tengwar"}) {
      for (int c = 0; c < CHARS.length; c++) {
        for (int i = 1; i <= 4; i++) {
          int k = c * 4 + i;
          png(data.resolve("omniglot").resolve(set).resolve(CHARS[c]).resolve(String.format("%04d_%02d.png", c, i)),
              (x, y) -> (x * k + y) % 11 < 3);
        }
      }
    }
    // train/val: the background split validates on Vinyals' validation alphabets (Hebrew is one), so train
    // on another alphabet too
    for (int c = 0; c < CHARS.length; c++) {
      for (int i = 1; i <= 4; i++) {
        int k = c + i;
        png(data.resolve("omniglot/images_background/Latin").resolve(CHARS[c]).resolve(String.format("%04d_%02d.png", c,
            i)), (x, y) -> (x + y * k) % 7 < 2);
      }
    }
    oneShot = data.resolve("omniglot-oneshot");
    writeRun(oneShot.resolve("run01"), 3);
    runDir = tmp.resolve("run");
    trainArgs = new String[] {"train", "--algorithm", "protonet", "--data", data.toString(), "--split", "background",
        "--side", "28", "--hidden", "2", "--ways", "3", "--shots", "1", "--queries", "1", "--test-ways", "3",
        "--test-shots", "1", "--test-queries", "1", "--iterations", "1", "--val-every", "1", "--val-episodes", "1",
        "--test-episodes", "1", "--threads", "1", "--no-progress"};
    CliTest.Outcome trained = CliTest.run(concat(trainArgs, "--out", runDir.toString()));
    assertThat(trained.status()).as(trained.out() + trained.err()).isZero();
    assertThat(runDir.resolve(MetaTrainer.BEST)).isRegularFile();
    assertThat(runDir.resolve(MetaTrainer.LAST)).isRegularFile();
    // the fixture itself passes every command (so each case below fails because of its one bad input)
    for (String[] ok : new String[][] {evalArgs(runDir, data), oneshotArgs(runDir, oneShot),
        {"gradcheck", "--algorithm", "protonet", "--data", data.toString(), "--hidden", "2", "--side", "16",
            "--ways", "3", "--shots", "1", "--queries", "1", "--max-elements", "1"}}) {
      CliTest.Outcome o = CliTest.run(ok);
      assertThat(o.status()).as(String.join(" ", ok) + "\n" + o.out() + o.err()).isZero();
    }
  }

  private static String[] evalArgs(Path run, Path dataRoot) {
    return new String[] {"eval", "--run", run.toString(), "--data", dataRoot.toString(), "--episodes", "2",
        "--threads", "1", "--no-progress"};
  }

  private static String[] oneshotArgs(Path run, Path runs) {
    return new String[] {"oneshot", "--run", run.toString(), "--runs", runs.toString()};
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  // ------------------------------------------------------------------ file makers

  private interface Ink {
    boolean black(int x, int y);
  }

  private static Path png(Path file, Ink ink) {
    byte[] raw = RawPng.scanlines8(105, 105, (x, y) -> ink.black(x, y) ? 0 : 255);
    return RawPng.header(105, 105, 8, 0).data(raw).write(file);
  }

  private static void writeRun(Path run, int n) throws IOException {
    StringBuilder labels = new StringBuilder();
    for (int i = 1; i <= n; i++) {
      int k = i;
      png(run.resolve("training").resolve(String.format("class%02d.png", i)), (x, y) -> (x + k * y) % 9 < 3);
      png(run.resolve("test").resolve(String.format("item%02d.png", i)), (x, y) -> (x + k * y) % 9 < 4);
      labels.append(String.format("%s/test/item%02d.png %s/training/class%02d.png%n", run.getFileName(), i,
          run.getFileName(), i));
    }
    Files.writeString(run.resolve("class_labels.txt"), labels);
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Path q = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(q);
        } else {
          Files.copy(p, q, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  /** The FIFOs made by the running case, released after it (see {@link #release}). */
  private static final List<Path> FIFOS = new ArrayList<>();

  private static void fifo(Path file) throws IOException, InterruptedException {
    Files.deleteIfExists(file);
    FIFOS.add(file);
    Process p = new ProcessBuilder("mkfifo", file.toString()).inheritIO().start();
    if (p.waitFor() != 0) {
      throw new IllegalStateException("mkfifo " + file + " failed");
    }
  }

  /** A safetensors file: 8-byte little-endian header length, the header, the data. */
  static byte[] safetensors(long headerLength, String header, int dataBytes) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(headerLength);
    b.put(h);
    return b.array();
  }

  /** The checkpoint with its first F32 tensor's first value set to NaN (header untouched). */
  static byte[] withNaN(byte[] ckpt) {
    byte[] b = ckpt.clone();
    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    int headerLength = (int) bb.getLong(0);
    String header = new String(b, 8, headerLength, StandardCharsets.UTF_8);
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("\\{\"dtype\":\"F32\",\"shape\":\\[[0-9,]*\\],\"data_offsets\":\\[([0-9]+),").matcher(header);
    assertThat(m.find()).as("an F32 tensor in %s", header).isTrue();
    bb.putFloat(8 + headerLength + Integer.parseInt(m.group(1)), Float.NaN);
    return b;
  }

  /** The checkpoint with its first F32 tensor declared as {@code dtype} (same length: the bytes stay). */
  static byte[] firstF32As(byte[] ckpt, String dtype) {
    byte[] b = ckpt.clone();
    int headerLength = (int) ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    String header = new String(b, 8, headerLength, StandardCharsets.UTF_8);
    int at = header.indexOf("\"dtype\":\"F32\"");
    assertThat(at).as("an F32 tensor in %s", header).isNotNegative();
    byte[] repl = ("\"dtype\":\"" + dtype + "\"").getBytes(StandardCharsets.UTF_8);
    System.arraycopy(repl, 0, b, 8 + header.substring(0, at).getBytes(StandardCharsets.UTF_8).length, repl.length);
    return b;
  }

  static byte[] safetensors(String header, int dataBytes) {
    return safetensors(header.getBytes(StandardCharsets.UTF_8).length, header, dataBytes);
  }

  // ------------------------------------------------------------------ cases

  /** One bad input: prepared in its own folder, then one command run against it. */
  private record Case(String name, Prep prep) {}

  /** Makes the case's bad input under {@code dir} and returns the command line and what stderr must name. */
  private interface Prep {
    Run make(Path dir) throws Exception;
  }

  private record Run(String[] args, String names) {}

  /** An Omniglot-layout data folder with one image replaced by {@code bad}. */
  private static Path dataWith(Path dir, String set, Bad bad) throws Exception {
    Path d = dir.resolve("data");
    copyTree(data, d);
    Path img = d.resolve("omniglot").resolve(set).resolve(CHARS[1]).resolve("0001_02.png");
    Files.delete(img);
    bad.write(img);
    return img;
  }

  /** A copy of the trained run folder (so a case can spoil one of its files). */
  private static Path runCopy(Path dir) throws IOException {
    Path r = dir.resolve("run");
    copyTree(runDir, r);
    return r;
  }

  private interface Bad {
    void write(Path file) throws Exception;
  }

  private static Bad bytes(byte[] b) {
    return f -> Files.write(f, b);
  }

  /** The bad image files: each replaces one good 105x105 PNG. */
  private static List<Object[]> badImages() throws IOException {
    byte[] good = Files.readAllBytes(data.resolve("omniglot/images_evaluation/Tengwar").resolve(CHARS[0])
        .resolve("0000_01.png"));
    byte[] garbage = new byte[300];
    for (int i = 0; i < garbage.length; i++) {
      garbage[i] = (byte) (i * 91 + 7);
    }
    byte[] palette = {0, 0, 0, (byte) 255, (byte) 255, (byte) 255};
    List<Object[]> l = new ArrayList<>();
    l.add(new Object[] {"empty PNG", bytes(new byte[0])});
    l.add(new Object[] {"PNG cut after the signature", bytes(Arrays.copyOf(good, 8))});
    l.add(new Object[] {"PNG cut in the header", bytes(Arrays.copyOf(good, 20))});
    l.add(new Object[] {"PNG cut in half", bytes(Arrays.copyOf(good, good.length / 2))});
    l.add(new Object[] {"PNG without IEND", bytes(Arrays.copyOf(good, good.length - 12))});
    l.add(new Object[] {"garbage bytes named .png", bytes(garbage)});
    l.add(new Object[] {"PNG declaring 46000x46000", (Bad) f -> RawPng.header(46000, 46000, 8, 0).data(new byte[64])
        .write(f)});
    l.add(new Object[] {"PNG declaring 2^31-1 x 1", (Bad) f -> RawPng.header(Integer.MAX_VALUE, 1, 1, 0)
        .data(new byte[64]).write(f)});
    l.add(new Object[] {"PNG of 20x30 pixels", (Bad) f -> RawPng.header(20, 30, 8, 0)
        .data(RawPng.scanlines8(20, 30, (x, y) -> 255)).write(f)});
    l.add(new Object[] {"PNG with garbage image data", (Bad) f -> RawPng.header(105, 105, 8, 0).chunk("IDAT", garbage)
        .write(f)});
    l.add(new Object[] {"PNG with too little image data", (Bad) f -> RawPng.header(105, 105, 8, 0)
        .data(new byte[500]).write(f)});
    l.add(new Object[] {"PNG with a bad CRC", (Bad) f -> {
      byte[] b = good.clone();
      b[29] ^= 0x55; // inside the IHDR chunk's CRC
      Files.write(f, b);
    }});
    l.add(new Object[] {"palette PNG indexing past its palette", (Bad) f -> RawPng.header(105, 105, 8, 3)
        .palette(palette).data(RawPng.scanlines8(105, 105, (x, y) -> x == 50 ? 9 : 1)).write(f)});
    l.add(new Object[] {"PNG with a bad bit depth", (Bad) f -> RawPng.header(105, 105, 7, 0)
        .data(RawPng.scanlines8(105, 105, (x, y) -> 0)).write(f)});
    l.add(new Object[] {"FIFO named .png", (Bad) CorruptInputCorpusTest::fifo});
    l.add(new Object[] {"folder named .png", (Bad) Files::createDirectories});
    return l;
  }

  private static List<Case> cases() throws IOException {
    List<Case> cs = new ArrayList<>();
    // PNG corpus: eval and gradcheck read images_evaluation, oneshot a run's images
    for (Object[] bi : badImages()) {
      String name = (String) bi[0];
      Bad bad = (Bad) bi[1];
      cs.add(new Case("eval: " + name, dir -> {
        Path img = dataWith(dir, "images_evaluation/Tengwar", bad);
        return new Run(evalArgs(runDir, dir.resolve("data")), img.toString());
      }));
      cs.add(new Case("gradcheck: " + name, dir -> {
        Path img = dataWith(dir, "images_evaluation/Tengwar", bad);
        return new Run(new String[] {"gradcheck", "--algorithm", "protonet", "--data", dir.resolve("data").toString(),
            "--hidden", "2", "--side", "16", "--ways", "3", "--shots", "1", "--queries", "1"}, img.toString());
      }));
      cs.add(new Case("oneshot: " + name, dir -> {
        Path runs = dir.resolve("runs");
        copyTree(oneShot, runs);
        Path img = runs.resolve("run01/test/item02.png");
        Files.delete(img);
        bad.write(img);
        return new Run(oneshotArgs(runDir, runs), img.toString());
      }));
    }
    // one-shot runs with missing or extra files
    Object[][] runCases = {
        {"no class_labels.txt", (Prep1) r -> Files.delete(r.resolve("class_labels.txt")), "class_labels.txt"},
        {"FIFO as class_labels.txt", (Prep1) r -> fifo(r.resolve("class_labels.txt")), "class_labels.txt"},
        {"folder as class_labels.txt", (Prep1) r -> {
          Files.delete(r.resolve("class_labels.txt"));
          Files.createDirectories(r.resolve("class_labels.txt"));
        }, "class_labels.txt"},
        {"extra class21.png", (Prep1) r -> Files.copy(r.resolve("training/class01.png"),
            r.resolve("training/class21.png")), "class21.png"},
        {"extra item09.png", (Prep1) r -> Files.copy(r.resolve("test/item01.png"), r.resolve("test/item09.png")),
            "item09.png"},
        {"extra notes.txt in training", (Prep1) r -> Files.writeString(r.resolve("training/notes.txt"), "x"),
            "notes.txt"},
        {"missing training image", (Prep1) r -> Files.delete(r.resolve("training/class02.png")), "class02.png"},
        {"missing test image", (Prep1) r -> Files.delete(r.resolve("test/item03.png")), "item03.png"},
        {"no training folder", (Prep1) r -> {
          for (String f : new String[] {"class01.png", "class02.png", "class03.png"}) {
            Files.delete(r.resolve("training").resolve(f));
          }
          Files.delete(r.resolve("training"));
        }, "training"},
        {"labels line with three paths", (Prep1) r -> Files.writeString(r.resolve("class_labels.txt"),
            "run01/test/item01.png run01/training/class01.png extra\n"), "class_labels.txt"},
        {"labels naming a missing class", (Prep1) r -> Files.writeString(r.resolve("class_labels.txt"),
            "test/item01.png training/class01.png\ntest/item02.png training/class07.png\n"
                + "test/item03.png training/class03.png\n"), "class_labels.txt"},
        {"labels naming one class twice", (Prep1) r -> Files.writeString(r.resolve("class_labels.txt"),
            "test/item01.png training/class01.png\ntest/item02.png training/class01.png\n"
                + "test/item03.png training/class03.png\n"), "class_labels.txt"},
        {"labels as binary garbage", (Prep1) r -> Files.write(r.resolve("class_labels.txt"),
            new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2, (byte) 0xc3}), "class_labels.txt"},
    };
    for (Object[] rc : runCases) {
      Prep1 p = (Prep1) rc[1];
      String names = (String) rc[2];
      cs.add(new Case("oneshot: " + rc[0], dir -> {
        Path runs = dir.resolve("runs");
        copyTree(oneShot, runs);
        p.apply(runs.resolve("run01"));
        return new Run(oneshotArgs(runDir, runs), names);
      }));
    }
    // safetensors corpus: as eval's and oneshot's --checkpoint, and as a resumed run's last.safetensors
    String f32 = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    Object[][] st = {
        {"empty checkpoint", new byte[0]},
        {"checkpoint of 5 bytes", new byte[] {1, 2, 3, 4, 5}},
        {"header length 2^62", safetensors(1L << 62, "{}", 0)},
        {"header length past the end", safetensors(4096, "{}", 0)},
        {"header length negative", safetensors(-8, "{}", 0)},
        {"header that is not JSON", safetensors("{\"a\": [1, 2", 0)},
        {"header that is not an object", safetensors("[1,2,3] ", 0)},
        {"header not UTF-8", safetensors(6, "\u00ff\u00fe", 4)},
        {"offsets past the data", safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8000]}}", 8)},
        {"offsets not matching the shape", safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
            8)},
        {"overlapping tensors", safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12)},
        {"unknown dtype", safetensors("{\"a\":{\"dtype\":\"F99\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8)},
        {"negative dimension", safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8)},
        {"huge shape", safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
            + "\"data_offsets\":[0,8]}}", 8)},
        {"duplicate tensor name", safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8)},
    };
    // tensors of another model: eval and oneshot name the file; train --resume is part C's (MetaTrainer's resume)
    for (String cmd : new String[] {"eval", "oneshot"}) {
      cs.add(new Case(cmd + " --checkpoint: tensors of another model", dir -> {
        Path f = Files.write(dir.resolve("bad.safetensors"), safetensors(f32, 8));
        String[] base = cmd.equals("eval") ? evalArgs(runDir, data) : oneshotArgs(runDir, oneShot);
        return new Run(concat(base, "--checkpoint", f.toString()), f.toString());
      }));
    }
    for (Object[] s : st) {
      byte[] b = (byte[]) s[1];
      cs.add(new Case("eval --checkpoint: " + s[0], dir -> {
        Path f = Files.write(dir.resolve("bad.safetensors"), b);
        return new Run(concat(evalArgs(runDir, data), "--checkpoint", f.toString()), f.toString());
      }));
      cs.add(new Case("oneshot --checkpoint: " + s[0], dir -> {
        Path f = Files.write(dir.resolve("bad.safetensors"), b);
        return new Run(concat(oneshotArgs(runDir, oneShot), "--checkpoint", f.toString()), f.toString());
      }));
      cs.add(new Case("train --resume, last.safetensors: " + s[0], dir -> {
        Path r = runCopy(dir);
        Path f = Files.write(r.resolve(MetaTrainer.LAST), b);
        return new Run(concat(trainArgs, "--out", r.toString(), "--resume"), f.toString());
      }));
    }
    cs.add(new Case("eval: FIFO as best.safetensors", dir -> {
      Path r = runCopy(dir);
      fifo(r.resolve(MetaTrainer.BEST));
      return new Run(evalArgs(r, data), r.resolve(MetaTrainer.BEST).toString());
    }));
    cs.add(new Case("eval: checkpoint of a wider model (--hidden 4 weights, config says 2)", dir -> {
      Path other = dir.resolve("wide");
      String[] wide = trainArgs.clone();
      wide[Arrays.asList(wide).indexOf("--hidden") + 1] = "4";
      CliTest.Outcome o = CliTest.run(concat(wide, "--out", other.toString()));
      assertThat(o.status()).as(o.err()).isZero();
      Path f = other.resolve(MetaTrainer.BEST);
      return new Run(concat(evalArgs(runDir, data), "--checkpoint", f.toString()), f.toString());
    }));
    // config.json corpus: eval and oneshot open the run folder
    Object[][] cfg = {
        {"empty config.json", ""},
        {"config.json cut in half", null},
        {"config.json of binary garbage", "\u0000\u0001\u00ff{{{"},
        {"config.json with a misspelled key", "side->sied"},
        {"config.json with a wrong type", "\"side\": 28->\"side\": \"twenty\""},
        {"config.json with an unknown algorithm", "\"protonet\"->\"protonett\""},
        {"config.json with a negative side", "\"side\": 28->\"side\": -28"},
        {"config.json with an unknown rotation", "\"AS_NEW_CLASSES\"->\"SIDEWAYS\""},
    };
    for (Object[] c : cfg) {
      String edit = (String) c[1];
      for (String cmd : new String[] {"eval", "oneshot"}) {
        cs.add(new Case(cmd + ": " + c[0], dir -> {
          Path r = runCopy(dir);
          Path f = r.resolve(Experiment.CONFIG);
          String text = Files.readString(f);
          String bad;
          if (edit == null) {
            bad = text.substring(0, text.length() / 2);
          } else if (edit.contains("->")) {
            String[] fromTo = edit.split("->", 2);
            assertThat(text).contains(fromTo[0]);
            bad = text.replace(fromTo[0], fromTo[1]);
          } else {
            bad = edit;
          }
          Files.writeString(f, bad);
          return new Run(cmd.equals("eval") ? evalArgs(r, data) : oneshotArgs(r, oneShot), f.toString());
        }));
      }
    }
    cs.add(new Case("eval: folder as config.json", dir -> {
      Path r = runCopy(dir);
      Files.delete(r.resolve(Experiment.CONFIG));
      Files.createDirectories(r.resolve(Experiment.CONFIG));
      return new Run(evalArgs(r, data), r.resolve(Experiment.CONFIG).toString());
    }));
    cs.add(new Case("eval: FIFO as config.json", dir -> {
      Path r = runCopy(dir);
      fifo(r.resolve(Experiment.CONFIG));
      return new Run(evalArgs(r, data), r.resolve(Experiment.CONFIG).toString());
    }));
    cs.add(new Case("oneshot: FIFO as config.json", dir -> {
      Path r = runCopy(dir);
      fifo(r.resolve(Experiment.CONFIG));
      return new Run(oneshotArgs(r, oneShot), r.resolve(Experiment.CONFIG).toString());
    }));
    cs.add(new Case("oneshot: folder as best.safetensors", dir -> {
      Path r = runCopy(dir);
      Files.delete(r.resolve(MetaTrainer.BEST));
      Files.createDirectories(r.resolve(MetaTrainer.BEST));
      return new Run(oneshotArgs(r, oneShot), r.resolve(MetaTrainer.BEST).toString());
    }));
    // run folders, checkpoint contents and resume state (the trainer's and Checkpoints' checks)
    for (String cmd : new String[] {"eval", "oneshot"}) {
      cs.add(new Case(cmd + ": best.safetensors with a NaN parameter", dir -> {
        Path r = runCopy(dir);
        Path f = r.resolve(MetaTrainer.BEST);
        Files.write(f, withNaN(Files.readAllBytes(f)));
        return new Run(cmd.equals("eval") ? evalArgs(r, data) : oneshotArgs(r, oneShot), f.toString());
      }));
      cs.add(new Case(cmd + ": best.safetensors with I32 over a float parameter", dir -> {
        Path r = runCopy(dir);
        Path f = r.resolve(MetaTrainer.BEST);
        Files.write(f, firstF32As(Files.readAllBytes(f), "I32"));
        return new Run(cmd.equals("eval") ? evalArgs(r, data) : oneshotArgs(r, oneShot), f.toString());
      }));
    }
    cs.add(new Case("train --resume, last.safetensors with a NaN", dir -> {
      Path r = runCopy(dir);
      Path f = r.resolve(MetaTrainer.LAST);
      Files.write(f, withNaN(Files.readAllBytes(f)));
      return new Run(concat(trainArgs, "--out", r.toString(), "--resume"), f.toString());
    }));
    cs.add(new Case("train --resume, last.safetensors with I32 over a float parameter", dir -> {
      Path r = runCopy(dir);
      Path f = r.resolve(MetaTrainer.LAST);
      Files.write(f, firstF32As(Files.readAllBytes(f), "I32"));
      return new Run(concat(trainArgs, "--out", r.toString(), "--resume"), f.toString());
    }));
    cs.add(new Case("train --resume, last.safetensors without optimizer state (best copied over it)", dir -> {
      Path r = runCopy(dir);
      Files.copy(r.resolve(MetaTrainer.BEST), r.resolve(MetaTrainer.LAST), StandardCopyOption.REPLACE_EXISTING);
      return new Run(concat(trainArgs, "--out", r.toString(), "--resume"), MetaTrainer.LAST);
    }));
    cs.add(new Case("train --resume, FIFO as config.json", dir -> {
      Path r = runCopy(dir);
      fifo(r.resolve(Experiment.CONFIG));
      return new Run(concat(trainArgs, "--out", r.toString(), "--resume"), r.resolve(Experiment.CONFIG).toString());
    }));
    cs.add(new Case("train --resume, FIFO as metrics.csv", dir -> {
      Path r = runCopy(dir);
      fifo(r.resolve(MetaTrainer.METRICS_CSV));
      return new Run(concat(trainArgs, "--out", r.toString(), "--resume"), MetaTrainer.METRICS_CSV);
    }));
    cs.add(new Case("train --resume, config.json cut in half", dir -> {
      Path r = runCopy(dir);
      Path f = r.resolve(Experiment.CONFIG);
      String text = Files.readString(f);
      Files.writeString(f, text.substring(0, text.length() / 2));
      return new Run(concat(trainArgs, "--out", r.toString(), "--resume"), f.toString());
    }));
    cs.add(new Case("train into a folder holding another run, without --resume", dir -> {
      Path r = runCopy(dir);
      return new Run(concat(trainArgs, "--out", r.toString()), r.toString());
    }));
    cs.add(new Case("train --side 50000", dir -> new Run(concat(trainArgs, "--out", dir.resolve("o").toString(),
        "--side", "50000"), "--side")));
    // options checked before the work
    Object[][] opts = {
        {new String[] {"sine", "--eval-tasks", "0"}, "--eval-tasks"},
        {new String[] {"sine", "--eval-tasks", "-3"}, "--eval-tasks"},
        {new String[] {"sine", "--iterations", "0"}, "--iterations"},
        {new String[] {"sine", "--meta-batch", "0"}, "--meta-batch"},
        {new String[] {"sine", "--outer-lr", "Infinity"}, "--outer-lr"},
        {new String[] {"sine", "--inner-lr", "NaN"}, "--inner-lr"},
        {new String[] {"sine", "--shots", "abc"}, "--shots"},
        {new String[] {"gradcheck", "--synthetic", "--side", "50000"}, "--side"},
        {new String[] {"gradcheck", "--synthetic", "--ways", "0"}, "--ways"},
        {new String[] {"gradcheck", "--synthetic", "--tolerance", "NaN"}, "--tolerance"},
        {new String[] {"gradcheck", "--synthetic", "--hidden", "0"}, "--hidden"},
        {new String[] {"gradcheck", "--synthetic", "--max-elements", "0"}, "--max-elements"},
        {new String[] {"gradcheck", "--synthetic", "--inner-lr", "Infinity"}, "--inner-lr"},
        {new String[] {"gradcheck", "--algorithm", "nope", "--synthetic"}, "nope"},
        {new String[] {"gradcheck", "--data", "/nonexistent/metagrad-data"}, "/nonexistent/metagrad-data"},
        {new String[] {"eval", "--run", "/nonexistent/metagrad-run"}, "/nonexistent/metagrad-run"},
        {new String[] {"eval", "--run", "RUN", "--checkpoint", "/nonexistent/x.safetensors"},
            "/nonexistent/x.safetensors"},
        {new String[] {"oneshot", "--run", "RUN", "--runs", "/nonexistent/runs"}, "/nonexistent/runs"},
        {new String[] {"eval", "--run", "RUN", "--ensemble-with", "/nonexistent/member"}, "/nonexistent/member"},
        {new String[] {"eval", "--run", "RUN", "--on", "train"}, "--on"},
        {new String[] {"nosuchcommand"}, "nosuchcommand"},
        {new String[] {"eval", "--run", "RUN", "--episodes", "0"}, "--episodes"},
        {new String[] {"eval", "--run", "RUN", "--ways", "1"}, "--ways"},
        {new String[] {"eval", "--run", "RUN", "--finetune-lr", "-1"}, "--finetune-lr"},
        {new String[] {"eval", "--run", "RUN", "--shift-ensemble", "-1"}, "--shift-ensemble"},
        {new String[] {"oneshot", "--run", "RUN", "--shift-ensemble", "-2"}, "--shift-ensemble"},
        {new String[] {"eval", "--run", "RUN", "--wayz", "5"}, "--wayz"},
    };
    for (Object[] o : opts) {
      String[] a = ((String[]) o[0]).clone();
      cs.add(new Case(String.join(" ", a), dir -> {
        for (int i = 0; i < a.length; i++) {
          if (a[i].equals("RUN")) {
            a[i] = runDir.toString();
          }
        }
        return new Run(a, (String) o[1]);
      }));
    }
    // --out that cannot be written, refused before the work
    cs.add(new Case("sine --out under a file", dir -> {
      Path f = Files.writeString(dir.resolve("file"), "x");
      return new Run(new String[] {"sine", "--out", f.resolve("plots").toString()}, f.toString());
    }));
    cs.add(new Case("sine --out that is a file", dir -> {
      Path f = Files.writeString(dir.resolve("file"), "x");
      return new Run(new String[] {"sine", "--out", f.toString()}, f.toString());
    }));
    cs.add(new Case("eval --out that is a folder", dir -> new Run(concat(evalArgs(runDir, data), "--out",
        dir.toString()), dir.toString())));
    cs.add(new Case("eval --out under a file", dir -> {
      Path f = Files.writeString(dir.resolve("file"), "x");
      return new Run(concat(evalArgs(runDir, data), "--out", f.resolve("r.json").toString()), f.toString());
    }));
    cs.add(new Case("oneshot --out that is a FIFO", dir -> {
      Path f = dir.resolve("fifo.json");
      fifo(f);
      return new Run(concat(oneshotArgs(runDir, oneShot), "--out", f.toString()), f.toString());
    }));
    return cs;
  }

  /**
   * Opens each FIFO of the case read-write and closes it again: on Linux that never blocks, and it lets a
   * command that hung opening or reading one (the defect this corpus guards against) go on, so that one hang
   * fails its own case instead of holding {@link CliTest#run}'s lock through every later case.
   */
  private static void release() {
    for (Path f : FIFOS) {
      try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(f.toFile(), "rw")) {
        raf.getFD();
      } catch (IOException e) {
        // deleted or replaced by the case: nothing to release
      }
    }
    FIFOS.clear();
  }

  private interface Prep1 {
    void apply(Path run) throws Exception;
  }

  @TestFactory
  Stream<DynamicTest> everyBadInputGivesOneLineAndExitStatus2() throws IOException {
    List<Case> cs = cases();
    assertThat(cs.size()).isGreaterThanOrEqualTo(MIN_CASES);
    List<DynamicTest> tests = new ArrayList<>();
    for (int i = 0; i < cs.size(); i++) {
      Case c = cs.get(i);
      int n = i;
      tests.add(DynamicTest.dynamicTest(String.format("[%d/%d] %s", n + 1, cs.size(), c.name()), () -> {
        Path dir = Files.createDirectories(tmp.resolve("case" + n));
        Run r = c.prep().make(dir);
        CliTest.Outcome o;
        try {
          o = assertTimeoutPreemptively(LIMIT, () -> CliTest.run(r.args()));
        } finally {
          release();
        }
        String err = o.err();
        List<String> lines = err.lines().filter(l -> !l.isBlank()).toList();
        String cmd = r.args()[0];
        assertThat(o.status()).as("exit status of %s; stderr:%n%s", c.name(), err).isEqualTo(Main.USAGE_ERROR);
        assertThat(lines).as("stderr of %s", c.name()).hasSize(1);
        String line = lines.get(0);
        String prefix = java.util.Set.of("train", "eval", "oneshot", "gradcheck", "sine", "devices").contains(cmd)
            ? "metagrad " + cmd + ": error: " : "metagrad: error: ";
        assertThat(line).startsWith(prefix).contains(r.names())
            .doesNotContain("Exception").doesNotContain("\tat ").doesNotContain("at org.");
      }));
    }
    return tests.stream();
  }

  @Test
  void evalAndOneshotCheckOutBeforeTheWork() throws IOException {
    // before: both computed and printed their result, then failed writing it
    Path dir = Files.createDirectories(tmp.resolve("out-checks"));
    Path file = Files.writeString(dir.resolve("file"), "x");
    for (String[] args : new String[][] {concat(evalArgs(runDir, data), "--out", dir.toString()),
        concat(oneshotArgs(runDir, oneShot), "--out", file.resolve("report.json").toString())}) {
      CliTest.Outcome o = CliTest.run(args);
      assertThat(o.status()).as(o.err()).isEqualTo(Main.USAGE_ERROR);
      assertThat(o.out()).as("%s printed before the check", args[0]).isEmpty();
      assertThat(o.err().lines().toList()).hasSize(1);
    }
    assertThat(file).hasContent("x");
  }

  /** The bytes written by {@link #safetensors} are what the format says (a check of the test's own maker). */
  @Test
  void safetensorsMakerWritesTheFormat() {
    byte[] b = safetensors("{}", 3);
    assertThat(b).hasSize(8 + 2 + 3);
    assertThat(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong()).isEqualTo(2);
    assertThat(new String(b, 8, 2, StandardCharsets.UTF_8)).isEqualTo("{}");
  }
}
