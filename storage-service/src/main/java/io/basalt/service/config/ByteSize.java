package io.basalt.service.config;

import java.util.Locale;

/** Sizes in binary units as operators write and read them: {@code 4096}, {@code 64MiB}, {@code 10GiB}, {@code 2TiB}. */
public final class ByteSize {
    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};

    private ByteSize() {
    }

    /**
     * A size such as {@code 4096}, {@code 4KiB}, {@code 4MiB}, {@code 16GiB} or {@code 2TiB}.
     *
     * @throws IllegalArgumentException when it is not such a size or does not fit a long
     */
    public static long parse(String value) {
        long multiplier = 1;
        String number = value.strip();
        for (int i = UNITS.length - 1; i > 0; i--) {
            if (number.endsWith(UNITS[i])) {
                multiplier = 1L << (10 * i);
                number = number.substring(0, number.length() - UNITS[i].length()).strip();
                break;
            }
        }
        try {
            return Math.multiplyExact(Long.parseLong(number), multiplier);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("not a size like 4096, 64MiB or 10GiB: '" + value + "'", e);
        }
    }

    /** In the largest unit it reaches: {@code 10GiB} when exact, else one decimal ({@code 1.5GiB}); bytes below 1 KiB. */
    public static String format(long bytes) {
        int unit = 0;
        while (unit + 1 < UNITS.length && Math.abs(bytes) >= 1L << (10 * (unit + 1))) {
            unit++;
        }
        long scale = 1L << (10 * unit);
        if (bytes % scale == 0) {
            return bytes / scale + UNITS[unit];
        }
        return String.format(Locale.ROOT, "%.1f%s", (double) bytes / scale, UNITS[unit]);
    }
}
