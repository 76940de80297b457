package org.metagrad.meta.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reads Omniglot from its standard layout,
 * {@code <root>/images_background/<Alphabet>/characterNN/<ID>_<DD>.png} and likewise
 * {@code images_evaluation}, and keeps decoded sets in memory.
 *
 * <p>Preprocessing ({@link #preprocess}): decode the 105 x 105 1-bit PNG, invert so that strokes
 * are 1.0 and background 0.0, then resize to {@code side x side} (28 by default) with
 * {@link Images#resizeArea exact area averaging} (PIL's {@code BOX} filter; the MAML and ProtoNets
 * code used PIL's {@code LANCZOS}/{@code ANTIALIAS}, which has a wider, slightly negative-lobed
 * kernel, so individual pixels differ a little from theirs while strokes, mass and alignment
 * agree). Values are in [0, 1]. A reader made with a {@link Framing} other than {@code NONE} frames each
 * 105 x 105 ink map before the resize.
 *
 * <p>Ordering is deterministic: alphabets, characters and files are sorted by name
 * ({@link String#compareTo}), whatever the file system returns. Only {@code *.png} files count as
 * images; hidden entries (starting with '.') and other files are ignored. A whole set is decoded
 * in parallel on a fixed pool of threads, results placed by index so the order never depends on
 * timing, and kept in memory (about 61 MB for the background set at 28 x 28) for the reader's
 * lifetime.
 *
 * <p>Thread-safe. Example:
 *
 * <pre>{@code
 * OmniglotReader r = OmniglotReader.fromEnvironment();
 * ImageClasses bg = r.load(OmniglotSet.BACKGROUND);   // 964 classes x 20 images x 784 floats
 * }</pre>
 */
public final class OmniglotReader {

  /** Side of the original Omniglot images, in pixels. */
  public static final int SOURCE_SIDE = 105;

  /** Default output side, as in Vinyals et al., MAML and ProtoNets. */
  public static final int DEFAULT_SIDE = 28;

  private final Path root;
  private final int side;
  private final int threads;
  private final Framing framing;
  private final Map<OmniglotSet, ImageClasses> cache = new EnumMap<>(OmniglotSet.class);

  /**
   * Creates a reader with 28 x 28 output and one decoding thread per available processor.
   *
   * @param root the folder holding {@code images_background/} and {@code images_evaluation/}
   */
  public OmniglotReader(Path root) {
    this(root, DEFAULT_SIDE, Runtime.getRuntime().availableProcessors());
  }

  /**
   * Creates a reader.
   *
   * @param root the folder holding {@code images_background/} and {@code images_evaluation/}
   * @param side output image side, e.g. 28
   * @param threads decoding threads, at least 1
   * @throws IllegalArgumentException when {@code side} or {@code threads} is not positive
   */
  public OmniglotReader(Path root, int side, int threads) {
    this(root, side, threads, Framing.NONE);
  }

  /**
   * Creates a reader that frames every drawing before resizing it.
   *
   * @param root the folder holding {@code images_background/} and {@code images_evaluation/}
   * @param side output image side, e.g. 28
   * @param threads decoding threads, at least 1
   * @param framing how each drawing is placed on its canvas first
   * @throws IllegalArgumentException when {@code side} or {@code threads} is not positive
   * @throws NullPointerException when {@code framing} is null
   */
  public OmniglotReader(Path root, int side, int threads, Framing framing) {
    this.framing = java.util.Objects.requireNonNull(framing, "framing");
    if (side <= 0) {
      throw new IllegalArgumentException("OmniglotReader: side must be positive, got " + side);
    }
    if (threads <= 0) {
      throw new IllegalArgumentException("OmniglotReader: threads must be positive, got " + threads);
    }
    this.root = root;
    this.side = side;
    this.threads = threads;
  }

  /**
   * Creates a 28 x 28 reader on {@link DataPaths#omniglot()}.
   *
   * @return the reader
   * @throws IllegalStateException when {@value DataPaths#ENV} is unset or wrong
   */
  public static OmniglotReader fromEnvironment() {
    return new OmniglotReader(DataPaths.omniglot());
  }

  /**
   * Returns the Omniglot root this reader reads.
   *
   * @return the root folder
   */
  public Path root() {
    return root;
  }

  /**
   * Returns how this reader places each drawing on its canvas before resizing it.
   *
   * @return the framing
   */
  public Framing framing() {
    return framing;
  }

  /**
   * Returns the output image side.
   *
   * @return the side in pixels
   */
  public int side() {
    return side;
  }

  /**
   * Applies the standard preprocessing to one 105 x 105 Omniglot-style PNG: decode, invert
   * (strokes 1.0), area-average to {@code side x side}, clamp to [0, 1].
   *
   * @param png the image file
   * @param side output side
   * @return {@code side * side} floats, row-major
   * @throws UncheckedIOException when the file cannot be read or decoded (message names it)
   * @throws IllegalArgumentException when the image is not 105 x 105 (message names it)
   */
  public static float[] preprocess(Path png, int side) {
    return preprocess(png, side, Framing.NONE);
  }

  /**
   * As {@link #preprocess(Path, int)}, framing the 105 x 105 ink map before the resize.
   *
   * @param png the image file
   * @param side output side
   * @param framing how the drawing is placed on its canvas first
   * @return {@code side * side} floats, row-major
   * @throws UncheckedIOException when the file cannot be read or decoded (message names it)
   * @throws IllegalArgumentException when the image is not 105 x 105 (message names it)
   */
  public static float[] preprocess(Path png, int side, Framing framing) {
    float[] ink = framing.apply(Images.readInk(png, SOURCE_SIDE, SOURCE_SIDE), SOURCE_SIDE);
    float[] out = Images.resizeArea(ink, SOURCE_SIDE, SOURCE_SIDE, side, side);
    for (int i = 0; i < out.length; i++) {
      out[i] = Math.min(1f, Math.max(0f, out[i]));
    }
    return out;
  }

  /**
   * Lists the characters of one set in natural order, without decoding anything.
   *
   * @param set which half of Omniglot
   * @return the ids, sorted (964 for background, 659 for evaluation)
   * @throws IllegalArgumentException when the set folder is missing, holds no alphabet, or an
   *     alphabet holds no character folder
   * @throws UncheckedIOException when a folder cannot be listed
   */
  public List<CharacterId> characters(OmniglotSet set) {
    Path dir = setDir(set);
    List<CharacterId> out = new ArrayList<>();
    List<Path> alphabets = subfolders(dir);
    if (alphabets.isEmpty()) {
      throw new IllegalArgumentException("Omniglot set folder " + dir + " holds no alphabet folder");
    }
    for (Path a : alphabets) {
      List<Path> chars = subfolders(a);
      if (chars.isEmpty()) {
        throw new IllegalArgumentException("Omniglot alphabet folder " + a + " holds no character folder");
      }
      for (Path c : chars) {
        out.add(new CharacterId(set, a.getFileName().toString(), c.getFileName().toString()));
      }
    }
    return out;
  }

  /**
   * Lists the characters of both sets, background first, in natural order.
   *
   * @return the 1623 ids of the full data set
   * @throws IllegalArgumentException as {@link #characters(OmniglotSet)}
   */
  public List<CharacterId> allCharacters() {
    List<CharacterId> all = new ArrayList<>(characters(OmniglotSet.BACKGROUND));
    all.addAll(characters(OmniglotSet.EVALUATION));
    return all;
  }

  /**
   * Lists the image files of one character, sorted by name.
   *
   * @param id the character
   * @return the {@code *.png} files, at least one
   * @throws IllegalArgumentException when the character folder is missing or holds no PNG, or a
   *     {@code *.png} entry is not a regular file
   * @throws UncheckedIOException when the folder cannot be listed
   */
  public List<Path> files(CharacterId id) {
    Path dir = root.resolve(id.set().folder()).resolve(id.alphabet()).resolve(id.character());
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("Omniglot character folder not found: " + dir);
    }
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        if (!n.startsWith(".") && n.toLowerCase(java.util.Locale.ROOT).endsWith(".png")) {
          // an image name that is no plain file (a FIFO would block the decoder) is an error, not skipped:
          // skipping would change which images a class has without a word
          files.add(DataPaths.requireRegularFile(p, "Omniglot image"));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list Omniglot character folder " + dir, e);
    }
    if (files.isEmpty()) {
      throw new IllegalArgumentException("Omniglot character folder " + dir + " holds no .png image");
    }
    files.sort(null);
    return files;
  }

  /**
   * Decodes a whole set (or returns it from the in-memory cache), classes in natural order and
   * each class's images in file-name order.
   *
   * @param set which half of Omniglot
   * @return the decoded classes
   * @throws IllegalArgumentException when a folder is missing or empty, or an image has the
   *     wrong size (message names the file)
   * @throws UncheckedIOException when a file cannot be read or decoded (message names the file)
   */
  public synchronized ImageClasses load(OmniglotSet set) {
    ImageClasses cached = cache.get(set);
    if (cached == null) {
      cached = decode(characters(set));
      cache.put(set, cached);
    }
    return cached;
  }

  /**
   * Returns the given characters, in the given order, decoding (and caching) each set they come
   * from. Typical use: {@code reader.load(OmniglotSplits.maml(reader.allCharacters()).train())}.
   *
   * @param ids characters, without repeats
   * @return the decoded classes, sharing pixel arrays with the cached sets
   * @throws IllegalArgumentException when an id does not exist on disk, or as {@link #load(OmniglotSet)}
   */
  public ImageClasses load(Collection<CharacterId> ids) {
    Set<OmniglotSet> sets = new LinkedHashSet<>();
    for (CharacterId id : ids) {
      sets.add(id.set());
    }
    if (sets.isEmpty()) {
      return ImageClasses.of(side, List.of(), List.of());
    }
    if (sets.size() == 1) {
      return load(sets.iterator().next()).select(ids);
    }
    List<ImageClasses> parts = new ArrayList<>();
    for (OmniglotSet s : OmniglotSet.values()) {
      if (sets.contains(s)) {
        parts.add(load(s));
      }
    }
    return ImageClasses.concat(parts).select(ids);
  }

  /**
   * Decodes the given characters without caching; useful for a small subset.
   *
   * @param ids characters, in the order wanted
   * @return the decoded classes
   * @throws IllegalArgumentException when a folder is missing or empty or an image has the wrong size
   * @throws UncheckedIOException when a file cannot be read or decoded
   */
  public ImageClasses decode(List<CharacterId> ids) {
    List<List<Path>> files = new ArrayList<>(ids.size());
    for (CharacterId id : ids) {
      files.add(files(id));
    }
    float[][] out = new float[ids.size()][];
    int per = side * side;
    int n = Math.min(threads, Math.max(1, ids.size()));
    AtomicInteger next = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(n, r -> {
      Thread t = new Thread(r, "metagrad-omniglot-decode");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int w = 0; w < n; w++) {
        futures.add(pool.submit(() -> {
          for (int c = next.getAndIncrement(); c < out.length; c = next.getAndIncrement()) {
            List<Path> fs = files.get(c);
            float[] px = new float[fs.size() * per];
            for (int i = 0; i < fs.size(); i++) {
              System.arraycopy(preprocess(fs.get(i), side, framing), 0, px, i * per, per);
            }
            out[c] = px;
          }
        }));
      }
      for (Future<?> f : futures) {
        await(f, next, out.length);
      }
    } finally {
      pool.shutdownNow();
    }
    return ImageClasses.of(side, ids, java.util.Arrays.asList(out));
  }

  private static void await(Future<?> f, AtomicInteger next, int total) {
    try {
      f.get();
    } catch (ExecutionException e) {
      next.set(total); // stop the other workers early
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException("Omniglot decoding failed", cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while decoding Omniglot", e);
    }
  }

  private Path setDir(OmniglotSet set) {
    Path dir = root.resolve(set.folder());
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(
          "Omniglot set folder not found: " + dir + " (expected " + set.folder()
              + "/<Alphabet>/characterNN/*.png under " + root + ")");
    }
    return dir;
  }

  private static List<Path> subfolders(Path dir) {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, Files::isDirectory)) {
      for (Path p : ds) {
        if (!p.getFileName().toString().startsWith(".")) {
          out.add(p);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list folder " + dir, e);
    }
    out.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
    return out;
  }
}
