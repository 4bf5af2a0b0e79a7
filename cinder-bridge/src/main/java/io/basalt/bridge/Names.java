package io.basalt.bridge;

import java.util.regex.Pattern;

/** The one naming rule of the API, shared by volume, snapshot and project names. */
public final class Names {
    public static final int MAX_LENGTH = 64;
    public static final String RULE = "1 to " + MAX_LENGTH + " characters of letters, digits, '.', '_' and '-'";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1," + MAX_LENGTH + "}");

    private Names() {
    }

    public static boolean isValid(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    /**
     * Project names also appear as a path segment, where "." and ".." would be resolved away
     * before routing, so those two could never be addressed.
     */
    public static boolean isValidProject(String project) {
        return isValid(project) && !project.equals(".") && !project.equals("..");
    }
}
