package io.basalt.service.engine.log;

/**
 * One change recorded in the log. Replaying the entries of every batch in sequence order, on top of
 * the last checkpoint, rebuilds the maps exactly; the writer applies the same entries at run time.
 */
public sealed interface LogEntry {
    byte WRITE = 1;
    byte UNMAP = 2;
    byte RELOCATE = 3;
    byte CREATE = 4;
    byte CLONE = 5;
    byte RESIZE = 6;
    byte DELETE = 7;
    byte REVERT = 8;
    byte COMPRESSION = 9;

    /**
     * Blocks {@code lba..lba+blocks()-1} of map {@code volume}, stored one after another in the batch's
     * payload, each with its stored length (below the block size means LZ4-compressed) and CRC32C.
     *
     * <p>Not a record, unlike the other entries: the log writer reuses its write entries from batch to
     * batch ({@link #reset}, {@link #block}), so that a host write leaves no entry and no arrays behind
     * as garbage. An entry of the writer's batch holds until that batch has completed, and none leaves
     * the writer; an entry parsed from the log is never changed.
     */
    final class Write implements LogEntry {
        private int volume;
        private long lba;
        private int blocks;
        private int[] lengths;
        private int[] crcs;

        public Write(int volume, long lba, int[] lengths, int[] crcs) {
            if (lengths.length != crcs.length) {
                throw new IllegalArgumentException(lengths.length + " lengths but " + crcs.length + " CRCs");
            }
            this.volume = volume;
            this.lba = lba;
            this.blocks = lengths.length;
            this.lengths = lengths;
            this.crcs = crcs;
        }

        /** An empty entry, for the writer to fill. */
        Write() {
            this(0, 0, new int[1], new int[1]);
        }

        /** Makes this entry one of {@code blocks} blocks, whose lengths and CRCs {@link #block} sets next. Writer only. */
        void reset(int volume, long lba, int blocks) {
            if (blocks > lengths.length) {
                lengths = new int[blocks];
                crcs = new int[blocks];
            }
            this.volume = volume;
            this.lba = lba;
            this.blocks = blocks;
        }

        /** Sets block {@code i}'s stored length and CRC32C. Writer only. */
        void block(int i, int length, int crc) {
            lengths[i] = length;
            crcs[i] = crc;
        }

        public int volume() {
            return volume;
        }

        public long lba() {
            return lba;
        }

        public int blocks() {
            return blocks;
        }

        /** The stored length of block {@code i}. */
        public int length(int i) {
            return lengths[i];
        }

        /** The CRC32C (seeded with its LBA) of block {@code i}'s stored bytes. */
        public int crc(int i) {
            return crcs[i];
        }

        @Override
        public String toString() {
            return "Write[volume=" + volume + ", lba=" + lba + ", blocks=" + blocks + "]";
        }
    }

    /** Blocks that now read as zeros (Deallocate, Write Zeroes). */
    record Unmap(int volume, long lba, long count) implements LogEntry {
    }

    /** Garbage collection copied a live block of {@code lineage} from address {@code from} into the payload. */
    record Relocate(int lineage, long lba, long from, int length, int crc) implements LogEntry {
    }

    /** A new empty map, the first of its lineage. */
    record Create(int volume, int blockSize, long sizeBlocks, boolean compressed) implements LogEntry {
    }

    /** A new map sharing every block of {@code source}: a snapshot (read-only) or a clone. */
    record Clone(int volume, int source, long sizeBlocks, boolean compressed, boolean readOnly) implements LogEntry {
    }

    record Resize(int volume, long sizeBlocks) implements LogEntry {
    }

    record Delete(int volume) implements LogEntry {
    }

    /** Map {@code volume} takes the content of map {@code snapshot}. */
    record Revert(int volume, int snapshot) implements LogEntry {
    }

    /**
     * Whether blocks written to map {@code volume} from now on are compressed; blocks already stored
     * keep their form (each block's stored length says which it is).
     */
    record Compression(int volume, boolean compressed) implements LogEntry {
    }
}
