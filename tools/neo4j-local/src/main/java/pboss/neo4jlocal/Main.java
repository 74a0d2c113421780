package pboss.neo4jlocal;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import org.neo4j.cli.ExecutionContext;
import org.neo4j.commandline.admin.security.SetInitialPasswordCommand;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.internal.helpers.HostnamePort;
import org.neo4j.kernel.internal.GraphDatabaseAPI;
import org.neo4j.kernel.internal.Version;
import org.neo4j.logging.log4j.Log4jLogProvider;
import picocli.CommandLine;

/**
 * Embedded Neo4j Community with Bolt on 127.0.0.1, for pboss development and CI (no Docker).
 *
 * <p>Options (each also readable from a system property {@code -Dneo4jlocal.NAME=VALUE}):
 *
 * <pre>
 *   --data DIR          Neo4j home of this instance (data/, logs/ below it). Required.
 *   --port N            Bolt port on 127.0.0.1 (default 7687; 0 = pick a free one).
 *   --pagecache SIZE    page cache size, e.g. 512m (default 512m).
 *   --tx-memory SIZE    cap on memory of all running transactions (default: half the max heap).
 *   --ready-file FILE   once Bolt answers, write "bolt://127.0.0.1:PORT" to FILE (atomically).
 *   --watch-pid PID     shut down (cleanly) once process PID has exited, e.g. the test run
 *                       that started this server, so that no orphan JVM outlives it.
 *   --password-file F   turn authentication on: user "neo4j" gets the password held in F (one
 *                       line). It is set before Bolt listens (a new home's initial password, else
 *                       a first pass without Bolt runs ALTER USER on the system database)
 *                       whenever it differs from the one last set (HOME/pboss-auth.sha256), so
 *                       a new file rotates it. Without this option Neo4j runs without auth.
 *   --conf KEY=VALUE    any other Neo4j setting, repeatable (e.g. --conf db.logs.query.enabled=OFF);
 *                       the settings above are fixed by this launcher and cannot be overridden.
 * </pre>
 *
 * <p>Prints one line {@code NEO4J-LOCAL READY bolt://127.0.0.1:PORT ...} on stdout once Bolt accepts
 * connections. SIGTERM / SIGINT shut the database down cleanly (shutdown hook); exit code 0.
 */
public final class Main {

    private static final String HOST = "127.0.0.1";
    private static final String PREFIX = "neo4j-local: ";
    private static final String AUTH_STAMP = "pboss-auth.sha256";

    private Main() {}

    @SuppressWarnings("removal") // the tx-state settings: deprecated in 5.26, still honoured
    public static void main(String[] argv) {
        PrintStream out = System.out;
        Options opts;
        try {
            opts = Options.parse(argv);
        } catch (IllegalArgumentException e) {
            System.err.println(PREFIX + "error: " + e.getMessage());
            System.err.println(PREFIX + "usage: Main --data DIR [--port N] [--pagecache SIZE]"
                    + " [--tx-memory SIZE] [--ready-file FILE] [--watch-pid PID]"
                    + " [--password-file FILE] [--conf KEY=VALUE]...");
            System.exit(2);
            return;
        }

        long started = System.nanoTime();
        long maxHeap = Runtime.getRuntime().maxMemory();
        long txMemory = opts.txMemory != null ? opts.txMemory : maxHeap / 2;
        out.printf(Locale.ROOT,
                "%sstarting Neo4j %s (Java %s) home=%s port=%d pagecache=%s heap.max=%s tx.max=%s%n",
                PREFIX, neo4jVersion(), Runtime.version(), opts.home, opts.port,
                human(opts.pagecache), human(maxHeap), human(txMemory));
        out.flush();

        DatabaseManagementService dbms;
        try {
            Files.createDirectories(opts.home);
            if (opts.readyFile != null) {
                Files.deleteIfExists(opts.readyFile);
            }
            String password = opts.passwordFile == null ? null : readPassword(opts.passwordFile);
            if (password != null) {
                setPassword(opts, txMemory, password, out);
            }
            dbms = builder(opts, txMemory, true, password != null).build();
            // Read once, when the system database was created: no need to keep a copy around.
            Files.deleteIfExists(opts.home.resolve("data").resolve("dbms").resolve("auth.ini"));
        } catch (Throwable t) {
            System.err.println(PREFIX + "start-up failed: " + t);
            t.printStackTrace();
            System.exit(1);
            return;
        }

        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean shuttingDown = new AtomicBoolean(false);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (!shuttingDown.compareAndSet(false, true)) {
                return;
            }
            out.println(PREFIX + "shutting down");
            out.flush();
            try {
                dbms.shutdown();
                out.println(PREFIX + "stopped");
            } catch (Throwable t) {
                System.err.println(PREFIX + "error during shutdown: " + t);
            } finally {
                if (opts.readyFile != null) {
                    try {
                        Files.deleteIfExists(opts.readyFile);
                    } catch (IOException ignored) {
                        // best effort
                    }
                }
                out.flush();
                stopped.countDown();
            }
        }, "neo4j-local-shutdown"));

        try {
            int port = boltPort(dbms, opts.port);
            waitForBolt(port, 60_000);
            String uri = "bolt://" + HOST + ":" + port;
            if (opts.readyFile != null) {
                Path tmp = opts.readyFile.resolveSibling(opts.readyFile.getFileName() + ".tmp");
                Files.writeString(tmp, uri + "\n", StandardCharsets.UTF_8);
                Files.move(tmp, opts.readyFile, StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
            }
            long ms = (System.nanoTime() - started) / 1_000_000;
            out.printf(Locale.ROOT, "NEO4J-LOCAL READY %s pid=%d version=%s startup_ms=%d%n",
                    uri, ProcessHandle.current().pid(), neo4jVersion(), ms);
            out.flush();
        } catch (Throwable t) {
            System.err.println(PREFIX + "Bolt did not come up: " + t);
            t.printStackTrace();
            System.exit(1);
            return;
        }

        if (opts.watchPid > 0) {
            watch(opts.watchPid);
        }

        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The Neo4j configuration of this launcher, with or without Bolt and authentication. */
    @SuppressWarnings("removal") // the tx-state settings: deprecated in 5.26, still honoured
    private static DatabaseManagementServiceBuilder builder(
            Options opts, long txMemory, boolean bolt, boolean auth) throws IOException {
        DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(opts.home)
                // Bolt: loopback only, plain text; off for the first pass that sets the password.
                .setConfig(BoltConnector.enabled, bolt)
                .setConfig(BoltConnector.listen_address, new SocketAddress(HOST, opts.port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress(HOST, opts.port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(GraphDatabaseSettings.auth_enabled, auth)
                // Bounded memory: the page cache defaults to half the RAM otherwise.
                .setConfig(GraphDatabaseSettings.pagecache_memory, opts.pagecache)
                .setConfig(GraphDatabaseSettings.tx_state_memory_allocation,
                        GraphDatabaseSettings.TransactionStateMemoryAllocation.ON_HEAP)
                .setConfig(GraphDatabaseSettings.tx_state_max_off_heap_memory, 64L * 1024 * 1024)
                .setConfig(GraphDatabaseSettings.memory_transaction_global_max_size, txMemory)
                .setConfig(BoltConnector.thread_pool_max_size, 64)
                // The in-JVM "local" Bolt channel only serves the HTTP/Query API, which this
                // launcher does not include (it also logs a Netty SO_REUSEADDR warning).
                .setConfig(BoltConnectorInternalSettings.enable_local_connector, false)
                // Netty's graceful-shutdown quiet period is 5 s per event loop group by default,
                // which made every stop take > 10 s; the databases are already closed by then.
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_timeout,
                        Duration.ofSeconds(5))
                // A development store: small, non-preallocated transaction logs.
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .setConfig(GraphDatabaseSettings.preallocate_store_files, false)
                .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, 64L * 1024 * 1024)
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "2 files")
                .setConfig(GraphDatabaseSettings.udc_enabled, false);
        Path extra = writeExtraConfig(opts);
        if (extra != null) {
            builder.loadPropertiesFromFile(extra);
        }
        // Neo4j's user log (start-up/shutdown notices, warnings) goes to stdout; the detailed
        // debug log is HOME/logs/debug.log.
        builder.setUserLogProvider(new Log4jLogProvider(System.out));
        return builder;
    }

    /** The password held in {@code file}: its first line, which must not be blank. */
    private static String readPassword(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        String line = text.lines().findFirst().orElse("").strip();
        if (line.isEmpty()) {
            throw new IOException("password file " + file + " is empty");
        }
        return line;
    }

    /**
     * Gives user "neo4j" {@code password} unless it was the last one set. A new home gets it as
     * its initial password (no extra start); an existing one (rotation, or a home made before
     * authentication was on) by a pass with authentication on and Bolt off (nobody can log in
     * with an old or default password meanwhile): ALTER USER on the system database, clean
     * shutdown. Then the stamp.
     */
    private static void setPassword(Options opts, long txMemory, String password, PrintStream out)
            throws IOException {
        Path stamp = opts.home.resolve(AUTH_STAMP);
        String digest = sha256(password);
        if (Files.isRegularFile(stamp)
                && Files.readString(stamp, StandardCharsets.UTF_8).strip().equals(digest)) {
            return;
        }
        if (!Files.exists(opts.home.resolve("data").resolve("databases").resolve("system"))) {
            // A new home: what `neo4j-admin dbms set-initial-password` does (data/dbms/auth.ini,
            // read when the system database is created), so one start suffices.
            out.println(PREFIX + "setting the initial password of user neo4j");
            out.flush();
            SetInitialPasswordCommand command = new SetInitialPasswordCommand(
                    new ExecutionContext(opts.home, opts.home.resolve("conf")));
            // "--" ends the options: a generated password may start with '-' (picocli would
            // take it for an option and then miss the password)
            int exit = new CommandLine(command).execute("--", password);
            if (exit != 0) {
                throw new IOException("set-initial-password failed (exit " + exit + ")");
            }
            Files.writeString(stamp, digest + "\n", StandardCharsets.UTF_8);
            return;
        }
        out.println(PREFIX + "setting the password of user neo4j (Bolt stays closed meanwhile)");
        out.flush();
        DatabaseManagementService setup = builder(opts, txMemory, false, true).build();
        try {
            GraphDatabaseService system = setup.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
            system.executeTransactionally(
                    "ALTER USER neo4j SET PLAINTEXT PASSWORD $password CHANGE NOT REQUIRED",
                    Map.of("password", password));
        } finally {
            setup.shutdown();
        }
        Files.writeString(stamp, digest + "\n", StandardCharsets.UTF_8);
    }

    private static String sha256(String text) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Exits (running the shutdown hook) once process {@code pid} is gone. */
    private static void watch(long pid) {
        Thread t = new Thread(() -> {
            while (true) {
                boolean alive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
                if (!alive) {
                    System.out.println(PREFIX + "process " + pid + " has exited; stopping");
                    System.out.flush();
                    System.exit(0);
                }
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "neo4j-local-watch-pid");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Writes the {@code --conf KEY=VALUE} settings to HOME/neo4j-local.conf (rewritten on every
     * start, removed when there are none); returns the file to load, or null.
     */
    private static Path writeExtraConfig(Options opts) throws IOException {
        Path file = opts.home.resolve("neo4j-local.conf");
        if (opts.raw.isEmpty()) {
            Files.deleteIfExists(file);
            return null;
        }
        StringBuilder sb = new StringBuilder("# written by pboss neo4j-local from --conf options\n");
        opts.raw.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
        return file;
    }

    /** The port Bolt actually listens on (resolves port 0 through Neo4j's port register). */
    private static int boltPort(DatabaseManagementService dbms, int requested) {
        GraphDatabaseAPI system =
                (GraphDatabaseAPI) dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        ConnectorPortRegister ports =
                system.getDependencyResolver().resolveDependency(ConnectorPortRegister.class);
        HostnamePort hp = ports.getLocalAddress(ConnectorType.BOLT);
        if (hp != null && hp.getPort() > 0) {
            return hp.getPort();
        }
        if (requested > 0) {
            return requested;
        }
        throw new IllegalStateException("Bolt connector did not register a port");
    }

    private static void waitForBolt(int port, long timeoutMs) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        IOException last = null;
        while (System.currentTimeMillis() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(HOST, port), 1000);
                return;
            } catch (IOException e) {
                last = e;
                Thread.sleep(100);
            }
        }
        throw last != null ? last : new IOException("timeout waiting for Bolt on port " + port);
    }

    private static String neo4jVersion() {
        try {
            return Version.getNeo4jVersion();
        } catch (Throwable t) {
            return "unknown";
        }
    }

    static long parseSize(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT).replace("_", "");
        if (s.endsWith("ib")) {
            s = s.substring(0, s.length() - 2);
        } else if (s.endsWith("b")) {
            s = s.substring(0, s.length() - 1);
        }
        long mult = 1;
        if (!s.isEmpty()) {
            switch (s.charAt(s.length() - 1)) {
                case 'k' -> mult = 1L << 10;
                case 'm' -> mult = 1L << 20;
                case 'g' -> mult = 1L << 30;
                case 't' -> mult = 1L << 40;
                default -> mult = 1;
            }
            if (mult != 1) {
                s = s.substring(0, s.length() - 1);
            }
        }
        try {
            long v = Long.parseLong(s.trim());
            if (v <= 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(v, mult);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("bad size: '" + text + "' (use e.g. 512m, 1g)");
        }
    }

    private static String human(long bytes) {
        if (bytes % (1L << 30) == 0) {
            return (bytes >> 30) + "g";
        }
        if (bytes % (1L << 20) == 0) {
            return (bytes >> 20) + "m";
        }
        return String.format(Locale.ROOT, "%.1fm", bytes / 1048576.0);
    }

    /** Command line plus {@code -Dneo4jlocal.*} system properties (the command line wins). */
    static final class Options {
        Path home;
        int port = 7687;
        long pagecache = 512L << 20;
        Long txMemory;
        Path readyFile;
        Path passwordFile;
        long watchPid;
        final Map<String, String> raw = new LinkedHashMap<>();

        static Options parse(String[] argv) {
            Options o = new Options();
            String data = System.getProperty("neo4jlocal.data");
            String port = System.getProperty("neo4jlocal.port");
            String pagecache = System.getProperty("neo4jlocal.pagecache");
            String tx = System.getProperty("neo4jlocal.txmemory");
            String ready = System.getProperty("neo4jlocal.readyfile");
            String watch = System.getProperty("neo4jlocal.watchpid");
            String passwordFile = System.getProperty("neo4jlocal.passwordfile");
            for (int i = 0; i < argv.length; i++) {
                String a = argv[i];
                String key = a;
                String val = null;
                int eq = a.indexOf('=');
                if (a.startsWith("--") && eq > 0 && !a.startsWith("--conf")) {
                    key = a.substring(0, eq);
                    val = a.substring(eq + 1);
                }
                if (key.startsWith("--conf=")) {
                    val = key.substring("--conf=".length());
                    key = "--conf";
                }
                if (val == null) {
                    if (i + 1 >= argv.length) {
                        throw new IllegalArgumentException("missing value for " + a);
                    }
                    val = argv[++i];
                }
                switch (key) {
                    case "--data", "--home", "-data" -> data = val;
                    case "--port", "-port" -> port = val;
                    case "--pagecache", "-pagecache" -> pagecache = val;
                    case "--tx-memory" -> tx = val;
                    case "--ready-file" -> ready = val;
                    case "--watch-pid" -> watch = val;
                    case "--password-file" -> passwordFile = val;
                    case "--conf" -> {
                        int k = val.indexOf('=');
                        if (k <= 0) {
                            throw new IllegalArgumentException("--conf expects KEY=VALUE, got " + val);
                        }
                        o.raw.put(val.substring(0, k).trim(), val.substring(k + 1).trim());
                    }
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
            if (data == null || data.isBlank()) {
                throw new IllegalArgumentException("--data DIR is required");
            }
            o.home = Path.of(data).toAbsolutePath().normalize();
            if (port != null) {
                try {
                    o.port = Integer.parseInt(port.trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("bad port: " + port);
                }
                if (o.port < 0 || o.port > 65535) {
                    throw new IllegalArgumentException("bad port: " + port);
                }
            }
            if (pagecache != null) {
                o.pagecache = parseSize(pagecache);
            }
            if (tx != null) {
                o.txMemory = parseSize(tx);
            }
            if (watch != null && !watch.isBlank()) {
                try {
                    o.watchPid = Long.parseLong(watch.trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("bad pid: " + watch);
                }
            }
            if (passwordFile != null && !passwordFile.isBlank()) {
                o.passwordFile = Path.of(passwordFile).toAbsolutePath().normalize();
            }
            if (ready != null && !ready.isBlank()) {
                o.readyFile = Path.of(ready).toAbsolutePath().normalize();
            }
            return o;
        }
    }
}
