package org.metagrad.nn.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Crash-safe file replacement: content goes to a uniquely named hidden temporary file in the target's
 * folder ({@code .<name>.<pid>-<n>-<hex>.tmp}), is forced to disk, renamed over the target (atomically
 * where the file system can) and the folder is forced. A reader therefore sees the old file or the new
 * one, never a mix; a process killed mid-write leaves only its temporary file, which
 * {@link #deleteTempFiles} removes on the next start. {@link SafeTensors#write} uses the same sequence.
 *
 * <pre>{@code
 * AtomicFiles.write(dir.resolve("metrics.csv"), csv.getBytes(StandardCharsets.UTF_8));
 * AtomicFiles.deleteTempFiles(dir.resolve("metrics.csv"));   // on resume
 * }</pre>
 */
public final class AtomicFiles {
  private static final AtomicLong TEMP_COUNTER = new AtomicLong();

  private AtomicFiles() {}

  /**
   * Replaces {@code file} by {@code content} atomically and durably (temporary file, fsync, rename, folder
   * fsync). A FIFO or other special file at {@code file} is replaced, never opened.
   *
   * @throws IOException when writing or renaming fails; the old file, if any, is unchanged and the
   *     temporary file deleted
   */
  public static void write(Path file, byte[] content) throws IOException {
    write(file, ch -> {
      ByteBuffer b = ByteBuffer.wrap(content);
      while (b.hasRemaining()) {
        ch.write(b);
      }
    });
  }

  /** Writes a file's content into the channel of its temporary file. */
  @FunctionalInterface
  public interface Content {
    /** Writes everything; the channel is positioned at 0 and is synced and closed afterwards. */
    void writeTo(FileChannel ch) throws IOException;
  }

  /**
   * As {@link #write(Path, byte[])}, with the content written by {@code content} into the temporary file's channel
   * (a checkpoint streams its tensors). Crash points ({@link CrashPoints}): {@code <name>:temp-written},
   * {@code <name>:temp-synced}, {@code <name>:renamed}.
   *
   * @throws IOException when writing or renaming fails; the old file, if any, is unchanged and the temporary
   *     file deleted
   */
  public static void write(Path file, Content content) throws IOException {
    Objects.requireNonNull(file, "file");
    Path target = file.toAbsolutePath();
    Path dir = target.getParent();
    Path tmp = createTemp(dir, target.getFileName().toString());
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        content.writeTo(ch);
        CrashPoints.reached(target.getFileName() + ":temp-written");
        ch.force(true);
        CrashPoints.reached(target.getFileName() + ":temp-synced");
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      CrashPoints.reached(target.getFileName() + ":renamed");
    } catch (Throwable t) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException deleteFailure) {
        t.addSuppressed(deleteFailure);
      }
      throw t;
    }
    syncDirectory(dir);
  }

  /**
   * Deletes the temporary files that interrupted writes ({@link #write}, {@link SafeTensors#write}) to {@code file} left behind (a process
   * killed between creating its temporary file and renaming it). Only names of this class's own pattern
   * for this target ({@code .<name>.<pid>-<n>-<hex>.tmp}) are touched, and only those of processes that
   * are no longer alive (or of this one, whose writes are not running concurrently with the caller's), so
   * a concurrent writer's file and every other file are left alone.
   *
   * @param file the target whose leftovers to delete
   * @return the files deleted
   * @throws IOException when the folder cannot be listed or a leftover cannot be deleted
   */
  public static List<Path> deleteTempFiles(Path file) throws IOException {
    Path target = file.toAbsolutePath();
    Path dir = target.getParent();
    List<Path> deleted = new ArrayList<>();
    if (dir == null || !Files.isDirectory(dir)) {
      return deleted;
    }
    String stem = tempStem(target.getFileName().toString());
    java.util.regex.Pattern p = java.util.regex.Pattern.compile(
        java.util.regex.Pattern.quote("." + stem + ".") + "([0-9]+)-[0-9]+-[0-9a-f]+\\.tmp");
    long self = ProcessHandle.current().pid();
    try (java.util.stream.Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        java.util.regex.Matcher m = p.matcher(f.getFileName().toString());
        if (!m.matches() || !Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        long pid;
        try {
          pid = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
          continue;
        }
        if (pid != self && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          continue;
        }
        if (Files.deleteIfExists(f)) {
          deleted.add(f);
        }
      }
    }
    return deleted;
  }

  private static String tempStem(String baseName) {
    // Shortened so that the suffix cannot push a long name past the file system's 255-byte limit.
    int cut = Math.min(baseName.length(), 100);
    if (cut > 0 && cut < baseName.length() && Character.isHighSurrogate(baseName.charAt(cut - 1))) {
      cut--; // keep a surrogate pair whole
    }
    return baseName.substring(0, cut);
  }

  /** Creates an empty, uniquely named hidden file next to the target, with default permissions. */
  static Path createTemp(Path dir, String baseName) throws IOException {
    String stem = tempStem(baseName);
    long pid = ProcessHandle.current().pid();
    for (int attempt = 0; ; attempt++) {
      Path tmp =
          dir.resolve(
              "." + stem + "." + pid + "-" + TEMP_COUNTER.incrementAndGet() + "-"
                  + Long.toHexString(System.nanoTime()) + ".tmp");
      try {
        FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        return tmp;
      } catch (FileAlreadyExistsException e) {
        if (attempt >= 100) {
          throw e;
        }
      }
    }
  }

  /**
   * Forces the directory entry of the renamed file to disk. Opening a directory for reading is not
   * possible on every platform (Windows); there the rename is as durable as the OS makes it.
   */
  static void syncDirectory(Path dir) {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // Not supported here; the data itself was already forced before the rename.
    }
  }

}
