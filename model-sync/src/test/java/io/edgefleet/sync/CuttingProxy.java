package io.edgefleet.sync;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on loopback that forwards to a server and, once, drops every connection when the
 * bytes sent back to clients reach {@code cutAfterBytes}: a link that fails in the middle of a
 * download. {@link #flipping} makes one that instead inverts that one byte and carries on: a
 * tampering middlebox.
 */
final class CuttingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int upstream;
    private final long cutAfterBytes;
    private final AtomicLong forwarded = new AtomicLong();
    private final AtomicBoolean cut = new AtomicBoolean();
    final AtomicInteger cuts = new AtomicInteger();
    private final boolean flip;

    CuttingProxy(int upstream, long cutAfterBytes) throws IOException {
        this(upstream, cutAfterBytes, false);
    }

    /** A proxy that inverts the byte at position {@code atByte} of everything sent back to clients, once. */
    static CuttingProxy flipping(int upstream, long atByte) throws IOException {
        return new CuttingProxy(upstream, atByte + 1, true);
    }

    private CuttingProxy(int upstream, long cutAfterBytes, boolean flip) throws IOException {
        this.flip = flip;
        this.upstream = upstream;
        this.cutAfterBytes = cutAfterBytes;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().name("proxy-accept").start(this::accept);
    }

    int port() {
        return server.getLocalPort();
    }

    long forwarded() {
        return forwarded.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket up = new Socket(InetAddress.getLoopbackAddress(), upstream);
                Thread.ofPlatform().daemon().start(() -> pipe(client, up, false));
                Thread.ofPlatform().daemon().start(() -> pipe(up, client, true));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pipe(Socket from, Socket to, boolean downstream) {
        byte[] buf = new byte[8192];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) > 0) {
                // compareAndSet: two connections crossing the mark together (the client fetches over more than one) cut once
                if (downstream && !cut.get() && forwarded.get() + n >= cutAfterBytes && cut.compareAndSet(false, true)) {
                    int allowed = (int) Math.max(0, cutAfterBytes - forwarded.get());
                    if (flip) {
                        buf[allowed - 1] ^= (byte) 0xFF;
                        out.write(buf, 0, n);
                        out.flush();
                        forwarded.addAndGet(n);
                        cuts.incrementAndGet();
                        continue;
                    }
                    out.write(buf, 0, allowed);
                    out.flush();
                    forwarded.addAndGet(allowed);
                    cuts.incrementAndGet();
                    from.close();
                    to.close();
                    return;
                }
                out.write(buf, 0, n);
                out.flush();
                if (downstream) {
                    forwarded.addAndGet(n);
                }
            }
        } catch (IOException e) {
            // a closed side ends the pipe
        } finally {
            try {
                from.close();
                to.close();
            } catch (IOException e) {
                // already closed
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
