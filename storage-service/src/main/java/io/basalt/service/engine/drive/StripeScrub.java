package io.basalt.service.engine.drive;

import io.basalt.service.engine.ec.ErasureCoder;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Checks one erasure-coded segment whole and repairs its damaged chunks (see docs/storage-engine.md,
 * "Scrub"). Every chunk of the written rows is read; the stripe is then tried as read, and with one,
 * two … of its readable chunks taken for damaged and rebuilt from the others, fewest first. A version
 * is accepted when the chunks not taken agree with the parity rebuilt from it (as far as the code has
 * redundancy left) and {@code verify} accepts the segment's bytes (every checksum of what the segment
 * holds). Only the accepted version's rows that differ from what a drive returned are written back, so
 * the repair never overwrites a byte that was right. One per thread: its buffers are a segment's chunks.
 */
final class StripeScrub {
    private final StripedSegments stripes;
    private final int k;
    private final int width;
    private final int chunk;
    private final ByteBuffer[] read;
    private final ByteBuffer[] work;
    private final ByteBuffer[] data;
    private final ByteBuffer[] parity;
    private final ByteBuffer[] expected;
    private final ByteBuffer logical;

    StripeScrub(StripedSegments stripes, int segmentSize) {
        this.stripes = stripes;
        ErasureCoder coder = stripes.coder();
        this.k = coder.dataChunks();
        int m = coder.parityChunks();
        this.width = k + m;
        this.chunk = stripes.chunkPerRow();
        int area = segmentSize / k;
        read = new ByteBuffer[width];
        work = new ByteBuffer[width];
        for (int i = 0; i < width; i++) {
            read[i] = ByteBuffer.allocateDirect(area);
            work[i] = ByteBuffer.allocateDirect(area);
        }
        data = new ByteBuffer[k];
        parity = new ByteBuffer[m];
        expected = new ByteBuffer[m];
        for (int p = 0; p < m; p++) {
            expected[p] = ByteBuffer.allocateDirect(area);
        }
        logical = ByteBuffer.allocateDirect(segmentSize);
    }

    /** Checks the rows holding the segment's first {@code length} bytes; see the class comment. */
    DriveSet.SegmentScrub scrub(int segment, int length, DriveSet.Verifier verify) throws IOException {
        int rows = (length + StripedSegments.ROW - 1) / StripedSegments.ROW;
        int bytes = rows * chunk;
        int readable = 0;
        int available = 0;
        for (int index = 0; index < width; index++) {
            if (stripes.readChunk(segment, index, 0, read[index].clear().limit(bytes))) {
                readable |= 1 << index;
                available++;
            }
        }
        if (available < k) {
            return new DriveSet.SegmentScrub(false, 0, 0);
        }
        for (int damaged = 0; damaged <= available - k; damaged++) {
            for (int suspects = 0; suspects < 1 << width; suspects++) {
                if (Integer.bitCount(suspects) != damaged || (suspects & ~readable) != 0) {
                    continue;
                }
                if (consistentWithout(suspects, readable, bytes) && verify.accepts(assemble(rows, length))) {
                    return repair(segment, suspects, rows);
                }
            }
        }
        return new DriveSet.SegmentScrub(false, 0, 0);
    }

    /**
     * Rebuilds the chunks not trusted (suspects and unreadable ones) from the others into {@link #work} and
     * checks that the parity computed from the result matches every parity chunk there.
     */
    private boolean consistentWithout(int suspects, int readable, int bytes) {
        int[] missing = new int[Integer.bitCount(suspects | ~readable & ((1 << width) - 1))];
        int n = 0;
        for (int index = 0; index < width; index++) {
            ByteBuffer target = work[index].clear().limit(bytes);
            if ((suspects & 1 << index) != 0 || (readable & 1 << index) == 0) {
                missing[n++] = index;
            } else {
                target.put(read[index].duplicate().clear().limit(bytes)).clear().limit(bytes);
            }
        }
        stripes.coder().reconstruct(work, missing);
        for (int i = 0; i < k; i++) {
            data[i] = work[i].duplicate().clear().limit(bytes);
        }
        for (int p = 0; p < parity.length; p++) {
            parity[p] = expected[p].clear().limit(bytes);
        }
        stripes.coder().encode(data, parity);
        for (int p = 0; p < parity.length; p++) {
            if (!expected[p].clear().limit(bytes).equals(work[k + p].duplicate().clear().limit(bytes))) {
                return false;
            }
        }
        return true;
    }

    /** The segment's first {@code length} bytes as {@link #work}'s data chunks hold them. */
    private ByteBuffer assemble(int rows, int length) {
        logical.clear();
        for (int row = 0; row < rows; row++) {
            for (int i = 0; i < k; i++) {
                logical.put(row * StripedSegments.ROW + i * chunk, work[i], row * chunk, chunk);
            }
        }
        return logical.clear().limit(length);
    }

    /** Writes back the runs of rows where an accepted chunk differs from what its drive returned. */
    private DriveSet.SegmentScrub repair(int segment, int suspects, int rows) {
        int repaired = 0;
        long repairedBytes = 0;
        for (int index = 0; index < width; index++) {
            if ((suspects & 1 << index) == 0) {
                continue;
            }
            boolean written = false;
            for (int row = 0; row < rows; ) {
                if (sameRow(index, row)) {
                    row++;
                    continue;
                }
                int end = row + 1;
                while (end < rows && !sameRow(index, end)) {
                    end++;
                }
                ByteBuffer run = work[index].duplicate().limit(end * chunk).position(row * chunk);
                if (stripes.writeChunk(segment, index, row, run)) {
                    repairedBytes += (long) (end - row) * chunk;
                    written = true;
                }
                row = end;
            }
            if (written) {
                repaired++;
            }
        }
        return new DriveSet.SegmentScrub(true, repaired, repairedBytes);
    }

    private boolean sameRow(int index, int row) {
        return read[index].duplicate().limit((row + 1) * chunk).position(row * chunk)
                .equals(work[index].duplicate().limit((row + 1) * chunk).position(row * chunk));
    }
}
