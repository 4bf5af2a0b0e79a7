package io.basalt.attach.libvirt;

import io.basalt.attach.AttachException;

/** Finds the guests a volume can be attached to. */
public interface Hypervisor {
    /** The running domain of that name; fails naming the domain if it does not exist or is not running. */
    GuestDomain runningDomain(String name) throws AttachException;

    /** Whether a domain of that name exists and runs; fails only when the hypervisor cannot be asked. */
    boolean isRunning(String name) throws AttachException;
}
