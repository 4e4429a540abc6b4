package io.edgefleet.sim;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A device group's network link to the broker: a TCP proxy on loopback that can be cut
 * (a partition: open connections are reset, new ones refused until it heals) or capped in
 * bandwidth per connection and direction (a slow link). Devices of the group connect to
 * {@link #port()} instead of the broker.
 */
final class TcpLink implements AutoCloseable {
    private final InetSocketAddress target;
    private final ServerSocket server;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile boolean cut;
    private volatile long bytesPerSecond;
    private volatile boolean closed;

    TcpLink(String name, InetSocketAddress target) throws IOException {
        this.target = target;
        this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("link-" + name).start(this::acceptLoop);
    }

    int port() {
        return server.getLocalPort();
    }

    /** Cuts the link (resets what is open, refuses what comes) or heals it. */
    void cut(boolean on) {
        cut = on;
        if (on) {
            open.forEach(TcpLink::reset);
        }
    }

    boolean isCut() {
        return cut;
    }

    /** Caps each connection at this many bytes per second in each direction; 0 lifts the cap. */
    void cap(long bps) {
        bytesPerSecond = bps;
    }

    private void acceptLoop() {
        while (!closed) {
            Socket in;
            try {
                in = server.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            if (cut) {
                reset(in);
                continue;
            }
            try {
                Socket out = new Socket();
                out.connect(target, 5000);
                in.setTcpNoDelay(true);
                out.setTcpNoDelay(true);
                open.add(in);
                open.add(out);
                Thread.ofVirtual().start(() -> pump(in, out));
                Thread.ofVirtual().start(() -> pump(out, in));
            } catch (IOException e) {
                reset(in); // the broker is down: the device sees a refused connection, as it would
            }
        }
    }

    private void pump(Socket from, Socket to) {
        byte[] buf = new byte[16 * 1024];
        try (InputStream i = from.getInputStream(); OutputStream o = to.getOutputStream()) {
            int n;
            long windowStart = System.nanoTime();
            long windowBytes = 0;
            while ((n = i.read(buf)) >= 0) {
                long cap = bytesPerSecond;
                if (cap > 0) {
                    // write in slices of at most 1/20 s worth so the cap holds for small reads too
                    int slice = (int) Math.max(512, cap / 20);
                    for (int off = 0; off < n; off += slice) {
                        int len = Math.min(slice, n - off);
                        o.write(buf, off, len);
                        o.flush();
                        windowBytes += len;
                        long due = windowStart + windowBytes * 1_000_000_000L / cap;
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                        }
                    }
                } else {
                    o.write(buf, 0, n);
                    o.flush();
                    windowStart = System.nanoTime();
                    windowBytes = 0;
                }
            }
        } catch (IOException | InterruptedException e) {
            // either side closed or the link was cut
        } finally {
            reset(from);
            reset(to);
            open.remove(from);
            open.remove(to);
        }
    }

    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0); // RST, as a dropped route looks to the endpoints once it times out
            s.close();
        } catch (IOException e) {
            // already gone
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        open.forEach(TcpLink::reset);
    }
}
