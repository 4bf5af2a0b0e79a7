package io.basalt.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Random;
import java.util.SplittableRandom;

/** What the blocks a benchmark writes hold, which decides how well they compress. */
enum DataKind {
    /** Uniformly random bytes: incompressible, as most real data (encrypted, already compressed) is. */
    RANDOM,
    /** English-like text: words of a 1,000-word vocabulary, drawn with a Zipf-like skew, in lines. */
    TEXT,
    /** Every 512 bytes: 256 random bytes, then 256 zeros (sparse records, padded structures). */
    HALF_ZERO;

    /** Bytes in a pool; writes take slices of it in turn. */
    static final int POOL_BYTES = 8 << 20;

    String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** {@link #POOL_BYTES} of this kind in a direct buffer, the same for the same seed. */
    ByteBuf pool(long seed) {
        byte[] bytes = new byte[POOL_BYTES];
        SplittableRandom random = new SplittableRandom(seed);
        switch (this) {
            case RANDOM -> random.nextBytes(bytes);
            case HALF_ZERO -> {
                byte[] half = new byte[256];
                for (int at = 0; at < bytes.length; at += 512) {
                    random.nextBytes(half);
                    System.arraycopy(half, 0, bytes, at, half.length);
                }
            }
            case TEXT -> text(bytes, new Random(seed));
        }
        ByteBuf pool = Unpooled.directBuffer(POOL_BYTES, POOL_BYTES);
        pool.writeBytes(bytes);
        return pool.asReadOnly();
    }

    private static void text(byte[] out, Random random) {
        String[] words = new String[1000];
        for (int i = 0; i < words.length; i++) {
            int length = 2 + Math.min(10, (int) Math.abs(random.nextGaussian() * 3 + 3));
            StringBuilder w = new StringBuilder();
            for (int c = 0; c < length; c++) {
                w.append((char) ('a' + random.nextInt(26)));
            }
            words[i] = w.toString();
        }
        int at = 0;
        int line = 0;
        while (at < out.length) {
            // Zipf-like: low indices (common words) far more often than high ones
            String word = words[(int) Math.min(words.length - 1, Math.pow(random.nextDouble(), 3) * words.length)];
            byte[] b = (line > 70 ? word + "\n" : word + " ").getBytes(StandardCharsets.US_ASCII);
            line = line > 70 ? 0 : line + b.length;
            int n = Math.min(b.length, out.length - at);
            System.arraycopy(b, 0, out, at, n);
            at += n;
        }
    }
}
