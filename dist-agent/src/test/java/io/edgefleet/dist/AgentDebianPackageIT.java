package io.edgefleet.dist;

import static io.edgefleet.dist.Dpkg.dpkgDeb;
import static io.edgefleet.dist.Dpkg.onPath;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.dist.Dpkg.Result;
import io.edgefleet.testkit.Distribution;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The .deb that {@code package} built from the real tarball (profile {@code deb}, active where
 * {@code /usr/bin/dpkg-deb} exists): it carries exactly the tarball's jars and launchers, every
 * file of its {@code conf/} as a conffile, and its unit passes {@code systemd-analyze verify}
 * against the real launcher.
 */
class AgentDebianPackageIT {
    @TempDir
    static Path dir;
    static Path deb;
    static Path tarballHome;

    @BeforeAll
    static void find() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/dpkg-deb")), "no /usr/bin/dpkg-deb: the deb profile did not build a package");
        Path tarball = Distribution.tarball();
        try (Stream<Path> built = Files.list(tarball.getParent())) {
            List<Path> debs = built.filter(p -> p.getFileName().toString().matches("edgefleet-agent_.*_all\\.deb")).toList();
            assertThat(debs).as("package built the .deb next to %s", tarball).hasSize(1);
            deb = debs.get(0);
        }
        tarballHome = Distribution.unpack(tarball, dir.resolve("tarball")).home();
    }

    @Test
    void the_package_carries_the_tarballs_jars_launchers_and_configuration() throws Exception {
        List<String> contents = dpkgDeb("--contents", deb.toString()).lines().map(l -> l.substring(l.indexOf("./") + 1)).toList();
        try (Stream<Path> jars = Files.list(tarballHome.resolve("lib"))) {
            List<String> expected = jars.map(j -> "/usr/lib/edgefleet-agent/lib/" + j.getFileName()).toList();
            assertThat(contents.stream().filter(c -> c.startsWith("/usr/lib/edgefleet-agent/lib/") && c.endsWith(".jar")))
                    .containsExactlyInAnyOrderElementsOf(expected);
        }
        assertThat(contents).contains("/usr/lib/edgefleet-agent/bin/edgefleet", "/usr/lib/edgefleet-agent/bin/edgefleet-agent", "/usr/bin/edgefleet");
        List<String> conf;
        try (Stream<Path> files = Files.list(tarballHome.resolve("conf"))) {
            conf = files.map(f -> "/etc/edgefleet/" + f.getFileName()).toList();
        }
        assertThat(dpkgDeb("--info", deb.toString(), "conffiles").lines()).containsAll(conf).contains("/etc/edgefleet/agent.env");
    }

    @Test
    void the_unit_passes_systemd_analyze_verify_with_the_real_launcher() throws Exception {
        assumeTrue(onPath("systemd-analyze"), "systemd-analyze is not installed (Debian's systemd package)");
        Path root = Files.createDirectories(dir.resolve("root"));
        dpkgDeb("-x", deb.toString(), root.toString());

        Result r = Dpkg.verifyUnit(root, root.resolve("lib/systemd/system/edgefleet-agent.service"));
        assertThat(r.rc()).as(r.output()).isZero();
        assertThat(r.output()).isBlank();
        assertThat(root.resolve("etc/edgefleet/agent.yaml")).content().containsPattern("(?m)^  data-dir: /var/lib/edgefleet");
    }
}
