package io.edgefleet.dist;

import static io.edgefleet.dist.Dpkg.dpkgDeb;
import static io.edgefleet.dist.Dpkg.onPath;
import static io.edgefleet.dist.Dpkg.run;
import static io.edgefleet.dist.Dpkg.verifyUnit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.dist.Dpkg.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code src/deb/build-deb.sh} with the real {@code dpkg-deb}: it turns an agent tarball (made
 * here in the tarball's layout, so the test does not depend on the package phase) into a .deb,
 * which is read back with {@code dpkg-deb --info/--contents/-x}: files, modes, conffiles,
 * maintainer scripts, the configuration; the unit passes {@code systemd-analyze verify} and its
 * {@code systemd-analyze security} exposure stays at or below 2.0 ("OK"). Installing with
 * {@code dpkg -i} is a manual proof (docs/install.md): a test must not install packages.
 */
class DebianPackageTest {
    private static final Path SCRIPT = Path.of("src", "deb", "build-deb.sh").toAbsolutePath();
    private static final String DIST = "edgefleet-agent-0.1.0-SNAPSHOT";

    @TempDir
    static Path shared;
    static Path deb;
    static Path root;

    @BeforeAll
    static void build() throws Exception {
        assumeTrue(onPath("dpkg-deb"), "dpkg-deb is not installed (Debian's dpkg package): the .deb cannot be built here");
        Path tarball = standInTarball(shared.resolve("in"), "data-dir: ./agent-data");
        Result r = run(Map.of("SOURCE_DATE_EPOCH", "1764460800"), SCRIPT.toString(), tarball.toString(), shared.resolve("out").toString());
        assertThat(r.rc()).as(r.output()).isZero();
        deb = Path.of(r.output().strip().lines().reduce((a, b) -> b).orElseThrow());
        root = Files.createDirectories(shared.resolve("root"));
        assertThat(run(Map.of(), "dpkg-deb", "-x", deb.toString(), root.toString()).rc()).isZero();
    }

    @Test
    void the_package_is_named_and_versioned_from_the_maven_version_and_depends_honestly() throws Exception {
        assertThat(deb.getFileName()).hasToString("edgefleet-agent_0.1.0~SNAPSHOT_all.deb");
        Map<String, String> fields = List.of("Package", "Version", "Architecture", "Depends", "Recommends").stream()
                .collect(Collectors.toMap(Function.identity(), f -> dpkgDeb("--field", deb.toString(), f).strip()));

        assertThat(fields).containsEntry("Package", "edgefleet-agent").containsEntry("Version", "0.1.0~SNAPSHOT")
                .containsEntry("Architecture", "all").containsEntry("Depends", "adduser")
                // a JDK from a tarball (JAVA_HOME) is no package: a Depends would refuse dpkg -i there
                .containsEntry("Recommends", "java21-runtime-headless");
    }

    @Test
    void files_modes_and_owners_follow_the_install_layout() {
        Map<String, String> entries = dpkgDeb("--contents", deb.toString()).lines()
                .map(l -> l.split("\\s+"))
                .collect(Collectors.toMap(f -> f[5].replaceFirst("^\\./", "/"), f -> f[0] + " " + f[1] + (f.length > 7 ? " " + f[6] + " " + f[7] : "")));

        assertThat(entries).containsEntry("/usr/lib/edgefleet-agent/bin/edgefleet-agent", "-rwxr-xr-x root/root")
                .containsEntry("/usr/lib/edgefleet-agent/bin/edgefleet", "-rwxr-xr-x root/root")
                .containsEntry("/usr/lib/edgefleet-agent/lib/edgefleet-cli.jar", "-rw-r--r-- root/root")
                .containsEntry("/usr/lib/edgefleet-agent/conf", "lrwxrwxrwx root/root -> /etc/edgefleet")
                .containsEntry("/usr/bin/edgefleet", "-rwxr-xr-x root/root")
                .containsEntry("/etc/edgefleet/agent.yaml", "-rw-r--r-- root/root")
                .containsEntry("/etc/edgefleet/jvm.options", "-rw-r--r-- root/root")
                // the token file: never world-readable, not even between unpack and postinst's chgrp
                .containsEntry("/etc/edgefleet/agent.env", "-rw-r----- root/root")
                .containsEntry("/lib/systemd/system/edgefleet-agent.service", "-rw-r--r-- root/root")
                .containsKeys("/usr/share/doc/edgefleet-agent/copyright", "/usr/share/doc/edgefleet-agent/changelog.gz",
                        "/usr/share/man/man1/edgefleet.1.gz", "/usr/share/lintian/overrides/edgefleet-agent");
        assertThat(entries.keySet()).noneMatch(p -> p.startsWith("/opt") || p.startsWith("/var") || p.contains("LICENSE"));
        assertThat(entries).containsEntry("/etc/edgefleet/logging.properties", "-rw-r--r-- root/root");
        assertThat(dpkgDeb("--info", deb.toString(), "conffiles").lines()).containsExactly("/etc/edgefleet/agent.env",
                "/etc/edgefleet/agent.yaml", "/etc/edgefleet/jvm.options", "/etc/edgefleet/logging.properties");
    }

    @Test
    void the_maintainer_scripts_make_the_user_and_data_folder_and_purge_removes_them() throws IOException {
        String postinst = dpkgDeb("--info", deb.toString(), "postinst");
        String postrm = dpkgDeb("--info", deb.toString(), "postrm");

        assertThat(postinst).contains("adduser --system --group --home /var/lib/edgefleet", "chown edgefleet:edgefleet /var/lib/edgefleet",
                "chown root:edgefleet /etc/edgefleet/agent.env", "chmod 0640 /etc/edgefleet/agent.env", "deb-systemd-helper enable edgefleet-agent.service");
        assertThat(postrm).contains("rm -rf /var/lib/edgefleet /var/cache/edgefleet", "deluser --system --quiet edgefleet", "deb-systemd-helper purge edgefleet-agent.service");
        Path control = shared.resolve("control");
        dpkgDeb("--control", deb.toString(), control.toString());
        for (String script : List.of("postinst", "prerm", "postrm")) {
            assertThat(control.resolve(script)).isExecutable().content().startsWith("#!/bin/sh\n").contains("\nset -e\n");
            Result syntax = run(Map.of(), "sh", "-n", control.resolve(script).toString());
            assertThat(syntax.rc()).as("sh -n %s: %s", script, syntax.output()).isZero();
        }
    }

    @Test
    void the_configuration_keeps_the_tarballs_defaults_with_the_data_folder_in_var_lib() throws IOException {
        String yaml = Files.readString(root.resolve("etc/edgefleet/agent.yaml"));

        assertThat(yaml).contains("  data-dir: /var/lib/edgefleet", "# the commented defaults stay").doesNotContain("./agent-data");
        assertThat(Files.readString(root.resolve("etc/edgefleet/agent.env"))).contains("#EF_ENROL_TOKEN=", "#JAVA_HOME=");
        assertThat(Files.readString(root.resolve("etc/edgefleet/jvm.options"))).isEqualTo("-Xss512k\n");
    }

    @Test
    void a_configuration_without_a_data_dir_line_gets_one_under_agent() throws Exception {
        Path tarball = standInTarball(shared.resolve("in-no-data-dir"), "fleet: local");
        Path out = shared.resolve("out-no-data-dir");
        Result r = run(Map.of(), SCRIPT.toString(), tarball.toString(), out.toString());
        assertThat(r.rc()).as(r.output()).isZero();
        Path x = Files.createDirectories(shared.resolve("root-no-data-dir"));
        run(Map.of(), "dpkg-deb", "-x", r.output().strip(), x.toString());

        assertThat(Files.readString(x.resolve("etc/edgefleet/agent.yaml")))
                .startsWith("# EdgeFleet agent\n# the commented defaults stay\nagent:\n  data-dir: /var/lib/edgefleet").contains("  fleet: local");
    }

    @Test
    void the_same_tarball_and_date_give_the_same_bytes() throws Exception {
        Path tarball = standInTarball(shared.resolve("in-again"), "data-dir: ./agent-data");
        Result again = run(Map.of("SOURCE_DATE_EPOCH", "1764460800"), SCRIPT.toString(), tarball.toString(), shared.resolve("out-again").toString());
        assertThat(again.rc()).as(again.output()).isZero();

        assertThat(Path.of(again.output().strip())).hasSameBinaryContentAs(deb);
    }

    @Test
    void a_tarball_without_the_agent_launcher_is_refused_naming_the_file() throws Exception {
        Path in = shared.resolve("in-broken");
        Path tarball = standInTarball(in, "data-dir: ./agent-data");
        Files.delete(in.resolve(DIST).resolve("bin/edgefleet-agent"));
        run(Map.of(), "tar", "-czf", tarball.toString(), "-C", in.toString(), DIST);

        Result r = run(Map.of(), SCRIPT.toString(), tarball.toString(), shared.resolve("out-broken").toString());
        assertThat(r.rc()).isEqualTo(1);
        assertThat(r.output()).contains("the tarball has no " + DIST + "/bin/edgefleet-agent");
        assertThat(shared.resolve("out-broken")).isEmptyDirectory();
    }

    @Test
    void the_unit_passes_systemd_analyze_verify() throws Exception {
        assumeTrue(onPath("systemd-analyze"), "systemd-analyze is not installed (Debian's systemd package)");
        Result r = verifyUnit(root, root.resolve("lib/systemd/system/edgefleet-agent.service"));

        assertThat(r.rc()).as(r.output()).isZero();
        assertThat(r.output()).as("no warning (an unknown key is only a warning)").isBlank();
    }

    @Test
    void the_unit_is_hardened_to_an_exposure_of_at_most_two() throws Exception {
        assumeTrue(onPath("systemd-analyze"), "systemd-analyze is not installed (Debian's systemd package)");
        Path unit = root.resolve("lib/systemd/system/edgefleet-agent.service");
        String text = Files.readString(unit);
        assertThat(text.lines()).contains("Type=notify", "NotifyAccess=main", "User=edgefleet", "ProtectSystem=strict",
                "ReadWritePaths=/var/lib/edgefleet /var/cache/edgefleet", "NoNewPrivileges=yes", "CapabilityBoundingSet=", "Restart=on-failure",
                "EnvironmentFile=-/etc/edgefleet/agent.env", "StandardOutput=journal");
        assertThat(text.lines()).noneMatch(l -> l.startsWith("MemoryDenyWriteExecute=")).noneMatch(l -> l.contains("EF_ENROL_TOKEN="));

        Result r = run(Map.of(), "systemd-analyze", "security", "--offline=true", unit.toString());
        Matcher m = Pattern.compile("Overall exposure level for edgefleet-agent.service: (\\d+\\.\\d)").matcher(r.output());
        assertThat(m.find()).as(r.output()).isTrue();
        assertThat(Double.parseDouble(m.group(1))).as(r.output()).isLessThanOrEqualTo(2.0);
    }

    /** A tarball in the distribution's layout, with {@code yamlLine} under {@code agent:}. */
    private static Path standInTarball(Path dir, String yamlLine) throws Exception {
        Path top = Files.createDirectories(dir.resolve(DIST));
        Files.createDirectories(top.resolve("bin"));
        Files.createDirectories(top.resolve("lib"));
        Files.createDirectories(top.resolve("conf"));
        script(top.resolve("bin/edgefleet"), "#!/bin/sh\nexec java -cp \"$(dirname \"$0\")/../lib/*\" io.edgefleet.cli.Main \"$@\"\n");
        script(top.resolve("bin/edgefleet-agent"), "#!/bin/sh\nexec \"$(dirname \"$0\")/edgefleet\" agent \"$@\"\n");
        Files.write(top.resolve("lib/edgefleet-cli.jar"), new byte[] {'P', 'K', 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        Files.writeString(top.resolve("conf/agent.yaml"), "# EdgeFleet agent\n# the commented defaults stay\nagent:\n  " + yamlLine + "   # a comment\n");
        Files.writeString(top.resolve("conf/jvm.options"), "-Xss512k\n");
        Files.writeString(top.resolve("conf/logging.properties"), ".level=INFO\n");
        Files.writeString(top.resolve("README.md"), "# EdgeFleet agent\n");
        Files.writeString(top.resolve("LICENSE"), "Apache License 2.0\n");
        Path tarball = dir.resolve(DIST + ".tar.gz");
        Result r = run(Map.of(), "tar", "-czf", tarball.toString(), "-C", dir.toString(), DIST);
        assertThat(r.rc()).as(r.output()).isZero();
        return tarball;
    }

    private static void script(Path p, String text) throws IOException {
        Files.writeString(p, text);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
