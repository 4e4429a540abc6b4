package io.edgefleet.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.edgefleet.profiles.DeviceProfile;
import io.edgefleet.profiles.RuntimeSupport;
import io.edgefleet.profiles.catalog.DeviceCatalog;
import io.edgefleet.profiles.probe.HostProbe;
import io.edgefleet.profiles.probe.HostReport;
import io.edgefleet.profiles.probe.RuntimeStatus;
import io.edgefleet.profiles.select.Bytes;
import io.edgefleet.profiles.select.Selection;
import io.edgefleet.profiles.select.VariantSelector;
import io.edgefleet.profiles.select.VariantsFile;
import io.edgefleet.protocols.Json;
import io.edgefleet.protocols.DecodeLimits;
import io.edgefleet.protocols.manifest.Accelerator;
import io.edgefleet.protocols.manifest.Precision;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code edgefleet profiles ...}: the device catalog, this host as a profile, and variant selection. */
@Command(name = "profiles", mixinStandardHelpOptions = true,
        description = "Device profiles: list the catalog, show one, probe this host, choose a model variant.",
        subcommands = {ProfilesCommand.ListCmd.class, ProfilesCommand.Show.class, ProfilesCommand.Probe.class,
            ProfilesCommand.Select.class})
final class ProfilesCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Options every profiles sub-command shares. */
    static final class Common {
        @Option(names = "--catalog", paramLabel = "FILE",
                description = "Extra profiles (YAML: one profile or a 'profiles:' list); they override built-in ids.")
        Path catalog;

        @Option(names = "--json", description = "Print JSON instead of text.")
        boolean json;

        DeviceCatalog catalog() {
            DeviceCatalog c = DeviceCatalog.builtIn();
            return catalog == null ? c : c.with(DeviceCatalog.load(catalog));
        }
    }

    private static final ObjectMapper JSON = Json.jsonMapper(DecodeLimits.DEFAULT).copy()
            .enable(SerializationFeature.INDENT_OUTPUT);

    static void printJson(PrintWriter out, Object value) {
        try {
            out.println(JSON.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void printYaml(PrintWriter out, Object value) {
        try {
            out.print(DeviceCatalog.yamlMapper().writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the device profiles of the catalog.")
    static final class ListCmd implements Runnable {
        @Mixin
        Common common;
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            PrintWriter out = spec.commandLine().getOut();
            List<DeviceProfile> all = common.catalog().all();
            if (common.json) {
                printJson(out, all);
                return;
            }
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"ID", "ARCH", "CORES", "MEMORY", "ACCELERATORS", "RUNTIMES", "PRECISIONS", "MAX MODEL"});
            for (DeviceProfile p : all) {
                rows.add(new String[] {p.id(), p.arch().wire(), Integer.toString(p.cores()),
                    Bytes.human((long) p.memoryMb() << 20), accelerators(p), runtimes(p), precisions(p),
                    Bytes.human(p.maxModelBytes())});
            }
            Table.print(out, rows);
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one device profile.")
    static final class Show implements Runnable {
        @Mixin
        Common common;
        @Parameters(index = "0", paramLabel = "ID", description = "Profile id, e.g. raspberry-pi-4-4gb.")
        String id;
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            DeviceProfile p = common.catalog().get(id);
            if (common.json) {
                printJson(spec.commandLine().getOut(), p);
            } else {
                printYaml(spec.commandLine().getOut(), p);
            }
        }
    }

    @Command(name = "probe", mixinStandardHelpOptions = true,
            description = {"Describe this host as a device profile: which runtimes load here (or why not), CUDA devices, memory.",
                "--os-arch judges the runtimes for a device of another architecture (nothing is loaded then)."})
    static final class Probe implements Runnable {
        @Option(names = "--json", description = "Print JSON instead of text.")
        boolean json;
        @Option(names = "--os-arch", paramLabel = "ARCH", description = "Judge for Linux on this os.arch, e.g. aarch64 (default: this host's).")
        String osArch;
        @Option(names = "--tflite-native-library", paramLabel = "FILE", description = {"A libtensorflowlite_jni.so to load instead of the "
            + "bundled one", "(default: EDGEFLEET_TFLITE_NATIVE_LIBRARY; agents: agent.engines.tflite.native-library)."})
        Path tfliteLibrary;
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            PrintWriter out = spec.commandLine().getOut();
            io.edgefleet.profiles.probe.ProbeInputs here = io.edgefleet.profiles.probe.ProbeInputs.current();
            java.util.Map<String, Path> libraries = new java.util.HashMap<>(here.nativeLibraries());
            if (tfliteLibrary != null) {
                libraries.put("tflite", tfliteLibrary.toAbsolutePath());
            }
            HostReport r = HostProbe.create().withInputs(new io.edgefleet.profiles.probe.ProbeInputs(
                    osArch == null ? here.platform() : io.edgefleet.profiles.probe.Platform.linux(osArch), libraries)).probe();
            if (json) {
                printJson(out, r);
                return;
            }
            DeviceProfile p = r.profile();
            out.printf("host       %s%n", p.name());
            out.printf("arch       %s, %d cores, %s memory%n", p.arch().wire(), p.cores(), Bytes.human((long) p.memoryMb() << 20));
            out.printf("cpu flags  %s%n", r.cpuFlags().isEmpty() ? "(none that matter)" : String.join(" ", r.cpuFlags()));
            out.printf("cuda       %s%n", r.gpus().isEmpty() ? "no CUDA device visible" : String.join("; ", r.gpus()));
            for (RuntimeStatus s : r.runtimes()) {
                out.printf("runtime    %-12s %s%n", s.runtime(), s.loaded()
                        ? s.version().get() + " loads (" + s.detail() + "; providers " + String.join(", ", s.providers()) + ")"
                        : "not loadable: " + s.detail());
            }
            out.println();
            out.println("# as a device profile:");
            printYaml(out, p);
        }
    }

    @Command(name = "select", mixinStandardHelpOptions = true,
            description = "Choose the model variant that fits a profile best, and say why (exit 1 when none fits).")
    static final class Select implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Common common;
        @Option(names = "--profile", required = true, paramLabel = "ID",
                description = "Profile id, or 'host' for this machine.")
        String profile;
        @Option(names = "--variants", required = true, paramLabel = "FILE",
                description = "YAML or JSON with a 'variants:' list (a manifest works too).")
        Path variants;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            DeviceProfile p = "host".equals(profile) ? HostProbe.create().probe().profile() : common.catalog().get(profile);
            Selection s = VariantSelector.select(p, VariantsFile.load(variants));
            if (common.json) {
                printJson(spec.commandLine().getOut(), s);
            } else {
                spec.commandLine().getOut().print(s.explain());
            }
            return s.chosen().isPresent() ? Main.OK : Main.FAILED;
        }
    }

    static String accelerators(DeviceProfile p) {
        return p.accelerators().isEmpty() ? "-" : p.accelerators().stream().map(Accelerator::wire).collect(Collectors.joining(","));
    }

    static String runtimes(DeviceProfile p) {
        return p.runtimes().isEmpty() ? "-" : p.runtimes().stream().map(RuntimeSupport::toString).collect(Collectors.joining(", "));
    }

    static String precisions(DeviceProfile p) {
        return p.precisions().stream().map(Precision::wire).collect(Collectors.joining(">"));
    }
}
