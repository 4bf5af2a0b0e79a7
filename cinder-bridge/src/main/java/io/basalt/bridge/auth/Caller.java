package io.basalt.bridge.auth;

/** Who a valid bearer token speaks for. */
public sealed interface Caller {

    /** Whether the caller may see and change the objects of {@code project}. */
    boolean mayUse(String project);

    /** The node's operator: every project. */
    record Admin() implements Caller {
        @Override
        public boolean mayUse(String project) {
            return true;
        }
    }

    /** A tenant: its own project only. */
    record Member(String project) implements Caller {
        @Override
        public boolean mayUse(String project) {
            return this.project.equals(project);
        }
    }
}
