package io.edgefleet.cli;

/** The built-in scenarios for tests of other packages. */
public final class SimulateCommandsAccess {
    private SimulateCommandsAccess() {
    }

    public static String builtIn(String name) throws java.io.IOException {
        return SimulateCommands.builtIn(name);
    }
}
