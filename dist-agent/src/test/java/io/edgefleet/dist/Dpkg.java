package io.edgefleet.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the real Debian tools ({@code dpkg-deb}, {@code systemd-analyze}) for the package tests. */
final class Dpkg {
    private Dpkg() {
    }

    record Result(int rc, String output) {
    }

    /** Whether {@code tool} is an executable on the PATH. */
    static boolean onPath(String tool) {
        return Arrays.stream(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
    }

    /** {@code dpkg-deb ARGS}, which must succeed; its output (stdout and stderr). */
    static String dpkgDeb(String... args) {
        List<String> cmd = new ArrayList<>(List.of("dpkg-deb"));
        cmd.addAll(Arrays.asList(args));
        Result r = run(Map.of(), cmd.toArray(String[]::new));
        assertThat(r.rc()).as("%s: %s", cmd, r.output()).isZero();
        return r.output();
    }

    /**
     * {@code systemd-analyze verify} of {@code unit} under {@code root} (an unpacked package): the
     * host's {@code *.target} units are copied in first, since verify resolves the unit's default
     * dependencies (sysinit.target...) under the root too.
     */
    static Result verifyUnit(Path root, Path unit) throws IOException {
        Path units = unit.getParent();
        Path hostUnits = Files.isDirectory(Path.of("/usr/lib/systemd/system")) ? Path.of("/usr/lib/systemd/system") : Path.of("/lib/systemd/system");
        try (var targets = Files.list(hostUnits)) {
            for (Path t : targets.filter(p -> p.toString().endsWith(".target")).toList()) {
                if (Files.notExists(units.resolve(t.getFileName()))) {
                    Files.copy(t, units.resolve(t.getFileName()));
                }
            }
        }
        return run(Map.of(), "systemd-analyze", "verify", "--root=" + root, unit.toString());
    }

    static Result run(Map<String, String> env, String... cmd) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().putAll(env);
            Process p = pb.start();
            byte[] out = p.getInputStream().readAllBytes();
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("%s ended", List.of(cmd)).isTrue();
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("cannot run " + List.of(cmd), e);
        }
    }
}
