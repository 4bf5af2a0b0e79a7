package io.basalt.service.engine.ec;

/**
 * How a node's log is protected across its drives: {@code k} data chunks and {@code m} parity chunks
 * per stripe ({@code engine.erasure-code}), or {@link #NONE} (segments spread over the drives without
 * redundancy). k is 2, 4 or 8 so that a stripe's row, k chunks of 4096/k bytes, is one 4 KiB sector.
 */
public record ErasureCode(int k, int m) {
    public static final ErasureCode NONE = new ErasureCode(0, 0);

    public ErasureCode {
        boolean none = k == 0 && m == 0;
        if (!none && k != 2 && k != 4 && k != 8) {
            throw new IllegalArgumentException("erasure code " + k + "+" + m + ": k must be 2, 4 or 8");
        }
        if (!none && (m < 1 || m > 4)) {
            throw new IllegalArgumentException("erasure code " + k + "+" + m + ": m must be 1 to 4");
        }
    }

    public boolean enabled() {
        return k > 0;
    }

    public int width() {
        return k + m;
    }

    /** The defaults: none for 1-2 drives, 2+1 for 3-5, 4+2 for 6 or more. */
    public static ErasureCode defaultFor(int drives) {
        return drives >= 6 ? new ErasureCode(4, 2) : drives >= 3 ? new ErasureCode(2, 1) : NONE;
    }

    /** {@code k+m} or {@code none}. */
    public static ErasureCode parse(String text) {
        String value = text.trim();
        if (value.equals("none")) {
            return NONE;
        }
        int plus = value.indexOf('+');
        if (plus < 0) {
            throw new IllegalArgumentException("erasure code must be k+m (e.g. 4+2) or none, not " + text);
        }
        try {
            return new ErasureCode(Integer.parseInt(value.substring(0, plus)), Integer.parseInt(value.substring(plus + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("erasure code must be k+m (e.g. 4+2) or none, not " + text, e);
        }
    }

    @Override
    public String toString() {
        return enabled() ? k + "+" + m : "none";
    }
}
