package io.basalt.nvmetcp.auth;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;

/**
 * A DH-HMAC-CHAP secret in the representation {@code nvme gen-dhchap-key} prints and Linux reads:
 * {@code DHHC-1:HH:BASE64:}, where HH names the hash that transforms the key before use (00 none, 01
 * SHA-256, 02 SHA-384, 03 SHA-512) and BASE64 encodes the 32, 48 or 64 key bytes followed by their
 * CRC-32, little endian. The key never appears in {@link #toString()}.
 */
public final class DhchapKey {
    private static final Pattern FORMAT = Pattern.compile("DHHC-1:(0[0-3]):([A-Za-z0-9+/]{1,120}={0,2}):?");
    private static final byte[] TRANSFORM_SUFFIX = "NVMe-over-Fabrics".getBytes(StandardCharsets.US_ASCII);
    private static final int CRC_LENGTH = 4;

    private final int transformHash;
    private final byte[] key;

    private DhchapKey(int transformHash, byte[] key) {
        this.transformHash = transformHash;
        this.key = key;
    }

    /** Parses the {@code DHHC-1:} representation; the message of the exception never contains the secret. */
    public static DhchapKey parse(String text) {
        Matcher m = FORMAT.matcher(text == null ? "" : text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a DH-HMAC-CHAP secret of the form DHHC-1:0N:BASE64:");
        }
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(m.group(2));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the DH-HMAC-CHAP secret is not valid base64");
        }
        int keyLength = decoded.length - CRC_LENGTH;
        if (keyLength != 32 && keyLength != 48 && keyLength != 64) {
            throw new IllegalArgumentException("a DH-HMAC-CHAP key has 32, 48 or 64 bytes, not " + keyLength);
        }
        byte[] key = java.util.Arrays.copyOf(decoded, keyLength);
        int stored = ByteBuffer.wrap(decoded, keyLength, CRC_LENGTH).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (stored != crc(key)) {
            throw new IllegalArgumentException("the DH-HMAC-CHAP secret's CRC does not match (mistyped?)");
        }
        return new DhchapKey(Integer.parseInt(m.group(1)), key);
    }

    /** A key of {@code key} bytes (32, 48 or 64) transformed with hash {@code transformHash} (0 for none). */
    public static DhchapKey of(int transformHash, byte[] key) {
        if (transformHash < 0 || transformHash > 3) {
            throw new IllegalArgumentException("transform hash " + transformHash + " is not 0..3");
        }
        if (key.length != 32 && key.length != 48 && key.length != 64) {
            throw new IllegalArgumentException("a DH-HMAC-CHAP key has 32, 48 or 64 bytes");
        }
        return new DhchapKey(transformHash, key.clone());
    }

    /** The {@code DHHC-1:} representation, with the secret: for storing, never for logging. */
    public String encode() {
        ByteBuffer b = ByteBuffer.allocate(key.length + CRC_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        b.put(key).putInt(crc(key));
        return String.format("DHHC-1:%02d:%s:", transformHash, Base64.getEncoder().encodeToString(b.array()));
    }

    /** The hash that transforms the key before use, 0 for none. */
    public int transformHash() {
        return transformHash;
    }

    /**
     * The key as the response computation uses it: unchanged for transform 0, else HMAC(key, NQN ||
     * "NVMe-over-Fabrics") with the transform hash, where the NQN is the host's for a host key and the
     * subsystem's for a controller key.
     */
    public byte[] transform(String nqn) {
        DhchapHash hash = DhchapHash.ofId(transformHash);
        if (hash == null) {
            return key.clone();
        }
        return hash.hmac(key, List.of(nqn.getBytes(StandardCharsets.UTF_8), TRANSFORM_SUFFIX));
    }

    private static int crc(byte[] data) {
        CRC32 crc = new CRC32();
        crc.update(data);
        return (int) crc.getValue();
    }

    @Override
    public String toString() {
        return String.format("DHHC-1:%02d:<%d-byte secret>", transformHash, key.length);
    }
}
