package io.basalt.service.engine.drive;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * What an erasure-coded node records about its drives besides the failed ones, in every sequence
 * reservation slot (after the reservation itself, under its own CRC32C): which drives were replaced
 * (index, the replacement's drive ID and path) and which one is being rebuilt, with how many segments
 * are rebuilt and durable. Every reservation round writes it with a higher {@code stamp}; at start the
 * slot with the highest stamp on any drive is the node's state (a round cut by a power failure left the
 * previous one, or the new one, on each drive).
 *
 * <pre>
 * 0   magic "BDTB"                  u32
 * 4   stamp                         u64
 * 12  failed drives (one bit each)  u32
 * 16  drive being rebuilt, or -1    i32
 * 20  segments rebuilt              u32
 * 24  replacements                  u32
 * 28  per replacement: drive index u32, drive ID (16), path length u16, path (UTF-8)
 * ..  CRC32C of everything before   u32
 * </pre>
 *
 * @param failedDrives   failed drives, and the one being rebuilt, one bit per index
 * @param rebuilding     the drive being rebuilt, or -1
 * @param rebuiltSegments segments below which the rebuilding drive's chunks are rebuilt and durable
 */
record DriveTable(long stamp, int failedDrives, int rebuilding, int rebuiltSegments, List<Replacement> replaced) {
    private static final int MAGIC = 0x42544442; // "BDTB"
    /** A replacement's path may not be longer, so that 32 of them fit in a slot. */
    static final int MAX_PATH_BYTES = 100;
    static final DriveTable EMPTY = new DriveTable(0, 0, -1, 0, List.of());

    /** A drive that replaced the one at {@code index}: only a drive with this ID is that drive from then on. */
    record Replacement(int index, UUID driveId, Path path) {
    }

    DriveTable {
        replaced = List.copyOf(replaced);
    }

    /** The replacement of drive {@code index}, or null if it is the one first formatted there. */
    Replacement replacementOf(int index) {
        for (Replacement replacement : replaced) {
            if (replacement.index() == index) {
                return replacement;
            }
        }
        return null;
    }

    /** This table with {@code replacement} instead of any earlier replacement of its index. */
    DriveTable withReplacement(Replacement replacement) {
        List<Replacement> all = new ArrayList<>();
        for (Replacement earlier : replaced) {
            if (earlier.index() != replacement.index()) {
                all.add(earlier);
            }
        }
        all.add(replacement);
        return new DriveTable(stamp, failedDrives, rebuilding, rebuiltSegments, all);
    }

    static byte[] encodePath(Path path) {
        byte[] bytes = path.toString().getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_PATH_BYTES) {
            throw new IllegalArgumentException("a replacement drive's path is at most " + MAX_PATH_BYTES
                    + " bytes long, not " + bytes.length + ": " + path);
        }
        return bytes;
    }

    /** Writes the table at the buffer's position. */
    void encode(ByteBuffer into) {
        int start = into.position();
        into.putInt(MAGIC).putLong(stamp).putInt(failedDrives).putInt(rebuilding).putInt(rebuiltSegments)
                .putInt(replaced.size());
        for (Replacement replacement : replaced) {
            byte[] path = encodePath(replacement.path());
            into.putInt(replacement.index()).putLong(replacement.driveId().getMostSignificantBits())
                    .putLong(replacement.driveId().getLeastSignificantBits()).putShort((short) path.length).put(path);
        }
        CRC32C crc = new CRC32C();
        crc.update(into.duplicate().position(start).limit(into.position()));
        into.putInt((int) crc.getValue());
    }

    /**
     * The table at {@code from} in {@code slot}, or null if there is none (a slot written before drive
     * tables existed) or it is torn. Counts and lengths are checked before anything is read by them.
     */
    static DriveTable decode(ByteBuffer slot, int from) {
        ByteBuffer in = slot.duplicate().order(slot.order()).position(from);
        if (in.remaining() < 32 || in.getInt() != MAGIC) {
            return null;
        }
        long stamp = in.getLong();
        int failed = in.getInt();
        int rebuilding = in.getInt();
        int rebuilt = in.getInt();
        int count = in.getInt();
        if (count < 0 || count > Integer.SIZE || rebuilding < -1 || rebuilding >= Integer.SIZE || rebuilt < 0) {
            return null;
        }
        List<Replacement> replaced = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            if (in.remaining() < 22) {
                return null;
            }
            int index = in.getInt();
            UUID id = new UUID(in.getLong(), in.getLong());
            int length = Short.toUnsignedInt(in.getShort());
            if (index < 0 || index >= Integer.SIZE || length > MAX_PATH_BYTES || in.remaining() < length + 4) {
                return null;
            }
            byte[] path = new byte[length];
            in.get(path);
            try {
                replaced.add(new Replacement(index, id, Path.of(new String(path, StandardCharsets.UTF_8))));
            } catch (InvalidPathException e) {
                return null;
            }
        }
        if (in.remaining() < 4) {
            return null;
        }
        CRC32C crc = new CRC32C();
        crc.update(in.duplicate().position(from).limit(in.position()));
        return (int) crc.getValue() == in.getInt() ? new DriveTable(stamp, failed, rebuilding, rebuilt, replaced) : null;
    }
}
