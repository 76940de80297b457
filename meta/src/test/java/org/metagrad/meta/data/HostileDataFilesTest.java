package org.metagrad.meta.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data files a hostile or careless user could hand the readers: PNGs whose header lies about their size,
 * pixels past the palette, corrupt image data, FIFOs in place of files, one-shot runs with files that are
 * not in the format. Each must fail at once with a message naming the file.
 */
class HostileDataFilesTest {

  private static final Duration QUICK = Duration.ofSeconds(20);

  /** Makes a FIFO with mkfifo (present on every Linux CI host); a FIFO opened for reading blocks forever. */
  static Path fifo(Path file) throws IOException, InterruptedException {
    Files.createDirectories(file.getParent());
    Process p = new ProcessBuilder("mkfifo", file.toString()).inheritIO().start();
    if (p.waitFor() != 0 || !Files.exists(file)) {
      throw new IllegalStateException("mkfifo " + file + " failed");
    }
    return file;
  }

  @Test
  void aHugeDeclaredSizeIsRejectedFromTheHeaderBeforeDecoding(@TempDir Path tmp) {
    // 46000 x 46000 8-bit gray would take 2 GB decoded; the data is a few bytes
    Path png = RawPng.header(46000, 46000, 8, 0).data(new byte[100]).write(tmp.resolve("huge.png"));
    assertTimeoutPreemptively(QUICK, () -> assertThatThrownBy(() -> Images.readInk(png, 105, 105))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(png.toString())
        .hasMessageContaining("46000x46000")
        .hasMessageContaining("105x105"));
  }

  @Test
  void aWrongButSmallDeclaredSizeIsStillNamed(@TempDir Path tmp) {
    Path png = TestImages.writeBinaryPng(tmp.resolve("small.png"), 20, 30, (x, y) -> false);
    assertThatThrownBy(() -> Images.readInk(png, 105, 105))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("image " + png + " is 20x30 pixels, expected 105x105");
  }

  @Test
  void aPaletteIndexPastThePaletteIsAnError(@TempDir Path tmp) {
    byte[] blackWhite = {0, 0, 0, (byte) 255, (byte) 255, (byte) 255};
    Path png = RawPng.header(105, 105, 8, 3).palette(blackWhite)
        .data(RawPng.scanlines8(105, 105, (x, y) -> x == 7 && y == 3 ? 5 : 1)).write(tmp.resolve("pal.png"));
    assertThatThrownBy(() -> Images.readInk(png, 105, 105))
        .hasMessageContaining(png.toString())
        .hasMessageContaining("palette index 5")
        .hasMessageContaining("2 entries");
    // the same file with indices inside the palette reads as its colours
    Path ok = RawPng.header(105, 105, 8, 3).palette(blackWhite)
        .data(RawPng.scanlines8(105, 105, (x, y) -> x == 7 && y == 3 ? 0 : 1)).write(tmp.resolve("ok.png"));
    float[] ink = Images.readInk(ok, 105, 105);
    assertThat(ink[3 * 105 + 7]).isEqualTo(1f);
    assertThat(ink[3 * 105 + 8]).isEqualTo(0f);
  }

  @Test
  void corruptImageDataGivesACompleteMessage(@TempDir Path tmp) {
    byte[] garbage = new byte[64];
    for (int i = 0; i < garbage.length; i++) {
      garbage[i] = (byte) (i * 37 + 11);
    }
    Path png = RawPng.header(105, 105, 8, 0).chunk("IDAT", garbage).write(tmp.resolve("garbage.png"));
    assertThatThrownBy(() -> Images.readInk(png, 105, 105))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageStartingWith("cannot decode image " + png + ": ")
        .satisfies(e -> assertThat(e.getMessage().strip()).doesNotEndWith(":"))
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void imageIoWrappedCausesAreSpelledOut() {
    // what the PNG reader throws when decoding runs out of heap: the wrapper's message alone ends at ": "
    Exception wrapped = new javax.imageio.IIOException("Caught exception during read: ",
        new OutOfMemoryError("Java heap space"));
    assertThat(Images.reason(wrapped))
        .isEqualTo("Caught exception during read: not enough memory to decode it (Java heap space)");
    assertThat(Images.reason(new javax.imageio.IIOException("Error reading PNG metadata", new java.io.EOFException())))
        .isEqualTo("Error reading PNG metadata: the file ends too early");
    assertThat(Images.reason(new javax.imageio.IIOException("Error reading PNG image data",
        new java.util.zip.ZipException("invalid stored block lengths"))))
        .isEqualTo("Error reading PNG image data: corrupt compressed image data (invalid stored block lengths)");
    assertThat(Images.reason(new ArrayIndexOutOfBoundsException("Index 7 out of bounds for length 7")))
        .isEqualTo("malformed image data (Index 7 out of bounds for length 7)");
  }

  @Test
  void aBadChunkCrcIsAnError(@TempDir Path tmp) throws IOException {
    Path good = TestImages.writeBinaryPng(tmp.resolve("good.png"), 105, 105, (x, y) -> x < y);
    byte[] b = Files.readAllBytes(good);
    b[b.length - 20] ^= 0x01; // inside the last IDAT chunk's data or CRC
    Path bad = Files.write(tmp.resolve("flipped.png"), b);
    assertThatThrownBy(() -> Images.readInk(bad, 105, 105))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining(bad.toString())
        .hasMessageContaining("CRC");
    // a chunk length past the end of the file
    byte[] cut = RawPng.header(105, 105, 8, 0).chunk("IDAT", new byte[40]).bytes();
    Path trunc = Files.write(tmp.resolve("trunc.png"), java.util.Arrays.copyOf(cut, cut.length - 10));
    assertThatThrownBy(() -> Images.readInk(trunc, 105, 105))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining(trunc.toString())
        .hasMessageContaining("past the end");
  }

  @Test
  void truncatedPngIsNamed(@TempDir Path tmp) throws IOException {
    Path good = TestImages.writeBinaryPng(tmp.resolve("good.png"), 105, 105, (x, y) -> x < y);
    byte[] all = Files.readAllBytes(good);
    Path cut = Files.write(tmp.resolve("cut.png"), java.util.Arrays.copyOf(all, all.length / 2));
    assertThatThrownBy(() -> Images.readInk(cut, 105, 105))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining(cut.toString());
    Path header = Files.write(tmp.resolve("header.png"), java.util.Arrays.copyOf(all, 20));
    assertThatThrownBy(() -> Images.readInk(header, 105, 105))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining(header.toString());
  }

  @Test
  void aFifoAsAnImageIsRefusedAtOnce(@TempDir Path tmp) throws Exception {
    Path f = fifo(tmp.resolve("fifo.png"));
    assertTimeoutPreemptively(QUICK, () -> assertThatThrownBy(() -> Images.readInk(f, 105, 105))
        .hasMessageContaining(f.toString()).hasMessageContaining("not a regular file"));
  }

  @Test
  void aFifoInACharacterFolderIsAnErrorNotSkipped(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("images_background/Alpha/character01");
    TestImages.writeBinaryPng(dir.resolve("0001_01.png"), 105, 105, (x, y) -> x < 5);
    Path f = fifo(dir.resolve("0001_02.png"));
    OmniglotReader reader = new OmniglotReader(tmp, 28, 1);
    CharacterId id = new CharacterId(OmniglotSet.BACKGROUND, "Alpha", "character01");
    assertTimeoutPreemptively(QUICK, () -> assertThatThrownBy(() -> reader.files(id))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(f.toString()).hasMessageContaining("not a regular file"));
  }

  /** A well-formed run of n classes: item i is class i. */
  static Path writeRun(Path run, int n) throws IOException {
    StringBuilder labels = new StringBuilder();
    for (int i = 1; i <= n; i++) {
      int k = i;
      TestImages.writeBinaryPng(run.resolve("training").resolve(String.format("class%02d.png", i)), 105, 105,
          (x, y) -> x < 5 * k);
      TestImages.writeBinaryPng(run.resolve("test").resolve(String.format("item%02d.png", i)), 105, 105,
          (x, y) -> x < 5 * k + 1);
      labels.append(String.format("%s/test/item%02d.png %s/training/class%02d.png%n", run.getFileName(), i,
          run.getFileName(), i));
    }
    Files.writeString(run.resolve(OneShotReader.LABELS), labels);
    return run;
  }

  @Test
  void aFifoAsClassLabelsIsRefusedAtOnce(@TempDir Path tmp) throws Exception {
    Path run = writeRun(tmp.resolve("run01"), 3);
    Files.delete(run.resolve(OneShotReader.LABELS));
    Path f = fifo(run.resolve(OneShotReader.LABELS));
    assertTimeoutPreemptively(QUICK, () -> assertThatThrownBy(() -> OneShotReader.readRun(run, 28))
        .hasMessageContaining(f.toString()).hasMessageContaining("not a regular file"));
  }

  @Test
  void aFifoAsARunImageIsRefusedAtOnce(@TempDir Path tmp) throws Exception {
    Path run = writeRun(tmp.resolve("run01"), 3);
    Files.delete(run.resolve("test/item02.png"));
    Path f = fifo(run.resolve("test/item02.png"));
    assertTimeoutPreemptively(QUICK, () -> assertThatThrownBy(() -> OneShotReader.readRun(run, 28))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(f.toString()).hasMessageContaining("not a regular file"));
  }

  @Test
  void anExtraTrainingImageIsAnErrorNamingIt(@TempDir Path tmp) throws IOException {
    Path run = writeRun(tmp.resolve("run01"), 3);
    assertThat(OneShotReader.readRun(run, 14).trainingFiles()).hasSize(3);
    Path extra = TestImages.writeBinaryPng(run.resolve("training/class21.png"), 105, 105, (x, y) -> y < 3);
    assertThatThrownBy(() -> OneShotReader.readRun(run, 14))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("class21.png")
        .hasMessageContaining(OneShotReader.LABELS);
    Files.delete(extra);
    Path extraTest = TestImages.writeBinaryPng(run.resolve("test/item04.png"), 105, 105, (x, y) -> y < 3);
    assertThatThrownBy(() -> OneShotReader.readRun(run, 14))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("item04.png");
    Files.delete(extraTest);
  }

  @Test
  void aFileThatIsNotAPngInARunFolderIsAnErrorNamingIt(@TempDir Path tmp) throws IOException {
    Path run = writeRun(tmp.resolve("run01"), 2);
    Path notes = Files.writeString(run.resolve("training/notes.txt"), "hello");
    assertThatThrownBy(() -> OneShotReader.readRun(run, 14))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(notes.toString());
    Files.delete(notes);
    Files.createDirectories(run.resolve("test/sub.png"));
    assertThatThrownBy(() -> OneShotReader.readRun(run, 14))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(run.resolve("test/sub.png").toString());
  }

  @Test
  void aTrainingClassThatAnswersTwoItemsIsAnError(@TempDir Path tmp) throws IOException {
    Path run = writeRun(tmp.resolve("run01"), 2);
    Files.writeString(run.resolve(OneShotReader.LABELS),
        "run01/test/item01.png run01/training/class01.png\nrun01/test/item02.png run01/training/class01.png\n");
    assertThatThrownBy(() -> OneShotReader.readRun(run, 14))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("class02.png")
        .hasMessageContaining(run.resolve(OneShotReader.LABELS).toString());
  }
}
