package io.edgefleet.cloud.broker;

import io.edgefleet.transport.pki.Identity;
import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Revocation at a Mosquitto broker, both halves: {@link DynamicSecurity#revoke} first (the sessions
 * are closed and the identity loses every right at once), then, for a broker whose folder this
 * process can write (the same host), the CA's current CRL into {@code crl.pem} and the operator's
 * reload command (e.g. {@code systemctl reload mosquitto}): Mosquitto 2.0.11 re-reads the CRL on
 * SIGHUP and from then on refuses the certificate at the TLS handshake. Any thread; blocks for the
 * broker's answer and the reload command (at most {@link #RELOAD_TIMEOUT_SECONDS} s).
 */
public final class MosquittoRevocation implements BrokerRevocation {
    static final long RELOAD_TIMEOUT_SECONDS = 10;

    /**
     * Where and how to refresh the broker's CRL.
     *
     * @param brokerDir the broker folder written by {@link MosquittoConfig} (holds {@code crl.pem})
     * @param crl the CA's current CRL, listing every revoked certificate (asked at each revocation)
     * @param reloadCommand the command that makes the broker reload, e.g. {@code [systemctl, reload, mosquitto]}
     */
    public record CrlRefresh(Path brokerDir, Supplier<X509CRL> crl, List<String> reloadCommand) {
        public CrlRefresh {
            reloadCommand = List.copyOf(reloadCommand);
            if (reloadCommand.isEmpty()) {
                throw new IllegalArgumentException("reloadCommand is empty");
            }
        }
    }

    private final DynamicSecurity dynsec;
    private final Optional<CrlRefresh> crl;

    public MosquittoRevocation(DynamicSecurity dynsec, Optional<CrlRefresh> crl) {
        this.dynsec = dynsec;
        this.crl = crl;
    }

    @Override
    public void revoke(Identity identity) {
        dynsec.revoke(identity);
        crl.ifPresent(c -> refresh(c, identity));
    }

    private static void refresh(CrlRefresh c, Identity identity) {
        MosquittoConfig.writeCrl(c.brokerDir(), c.crl().get());
        try {
            Process p = new ProcessBuilder(c.reloadCommand()).redirectErrorStream(true).start();
            if (!p.waitFor(RELOAD_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new BrokerAdminException("the broker reload command did not finish within " + RELOAD_TIMEOUT_SECONDS
                        + " s after revoking " + identity + " (its sessions are closed and its rights gone already)");
            }
            if (p.exitValue() != 0) {
                throw new BrokerAdminException("the broker reload command exited with " + p.exitValue() + " after revoking " + identity
                        + " (its sessions are closed and its rights gone already): " + new String(p.getInputStream().readAllBytes()).strip());
            }
        } catch (IOException e) {
            throw new BrokerAdminException("cannot run the broker reload command: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BrokerAdminException("interrupted while reloading the broker after revoking " + identity);
        }
    }
}
