package io.basalt.attach;

/**
 * What this host did to attach one volume to one domain, kept in the state directory so a later
 * detach (another process) can undo exactly that.
 *
 * @param bridgePid the NBD bridge's PID in userspace mode, 0 in kernel mode
 */
public record Attachment(String domain, String volumeId, AttachMode mode, String nqn, long bridgePid) {
}
