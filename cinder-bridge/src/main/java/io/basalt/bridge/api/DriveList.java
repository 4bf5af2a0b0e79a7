package io.basalt.bridge.api;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;

/**
 * Body of {@code GET /api/v1/drives} and of a replacement's answer.
 *
 * @param erasureCode the layout across the drives: {@code k+m}, or {@code none}
 * @param drives      by index
 * @param rebuild     the running rebuild, or the last one since the start; absent if none ran
 * @param scrub       what the background scrub has checked and repaired since the start
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DriveList(String erasureCode, List<NodeDrive> drives, RebuildStatus rebuild, ScrubReport scrub) {
    public DriveList {
        drives = List.copyOf(drives);
    }
}
