package io.edgefleet.cli;

import io.edgefleet.cloud.broker.MosquittoConfig;
import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Identity;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code edgefleet broker ...}: the MQTT broker's security configuration. */
@Command(name = "broker", mixinStandardHelpOptions = true, description = "The MQTT broker's security configuration.",
        subcommands = BrokerCommands.MosquittoConfigCommand.class)
final class BrokerCommands implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "mosquitto-config", mixinStandardHelpOptions = true,
            description = {"Write a secured Mosquitto 2.0 configuration from the control plane's CA: TLS with client certificates "
                + "(the certificate's CN is the identity), no anonymous clients, a CRL, and the dynamic-security plugin with "
                + "each identity's rights. Also issues the control plane's broker-admin certificate into DATA/pki.",
                "Replaces the files in --out; restart the broker to load a regenerated dynsec.json."})
    static final class MosquittoConfigCommand implements Callable<Integer> {
        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write the broker's files.")
        Path out;
        @Option(names = "--data-dir", paramLabel = "DIR", description = "The control plane's data folder holding pki/ (default ./cloud-data).")
        Path dataDir = Path.of("cloud-data");
        @Option(names = "--host", paramLabel = "NAME", description = "A name or address devices reach the broker by; repeat (default localhost, 127.0.0.1).")
        List<String> hosts = new ArrayList<>(List.of("localhost", "127.0.0.1"));
        @Option(names = "--port", paramLabel = "P", description = "The TLS listener's port (default 8883).")
        int port = 8883;
        @Option(names = "--bind", paramLabel = "ADDR", description = "The listener's address (default 0.0.0.0).")
        String bind = "0.0.0.0";
        @Option(names = "--deploy-dir", paramLabel = "DIR", description = "Where the files will lie on the broker host (default: --out, absolute).")
        Path deployDir;
        @Option(names = "--plugin", paramLabel = "FILE", description = "mosquitto_dynamic_security.so on the broker host (default: Debian's).")
        Path plugin = MosquittoConfig.DEBIAN_PLUGIN;
        @Option(names = "--identity", paramLabel = "FLEET/DEVICE", description = "A device to grant now; repeat (later ones are granted when they enrol).")
        List<String> identities = new ArrayList<>();
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            List<Identity> ids = new ArrayList<>();
            for (String s : identities) {
                Identity id;
                try {
                    id = Identity.parse(s);
                } catch (IllegalArgumentException e) {
                    spec.commandLine().getErr().println("--identity: " + e.getMessage());
                    return Main.USAGE;
                }
                if (!id.isDevice()) {
                    spec.commandLine().getErr().println("--identity: '" + s + "' is not FLEET/DEVICE (the services are always granted)");
                    return Main.USAGE;
                }
                ids.add(id);
            }
            Path pki = dataDir.resolve("pki");
            CertificateAuthority ca = CertificateAuthority.loadOrCreate(pki, "EdgeFleet device CA", Duration.ofDays(3650)); // the control plane's own
            Files.createDirectories(out);
            Path deploy = deployDir == null ? out.toAbsolutePath() : deployDir;
            MosquittoConfig.write(out, ca, new MosquittoConfig.Settings(bind, port, hosts, deploy, plugin, Duration.ofDays(365)), ids, Map.of());
            if (!Files.exists(pki.resolve(MosquittoConfig.ADMIN_CERT))) {
                MosquittoConfig.writeAdmin(pki, ca, Duration.ofDays(365));
            }
            PrintWriter o = spec.commandLine().getOut();
            o.printf("wrote %s: mosquitto.conf, ca.pem, server.pem, server-key.pem (0600), crl.pem, dynsec.json%n", out);
            o.printf("broker-admin identity for the control plane: %s%n", pki.resolve(MosquittoConfig.ADMIN_CERT));
            o.printf("start it with: mosquitto -c %s%n", deploy.resolve("mosquitto.conf"));
            return Main.OK;
        }
    }
}
