package http

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// retryAfterSeconds is what a 503 database-unavailable asks a client to wait: about
// what PostgreSQL needs to restart or fail over, well under a load balancer's patience.
const retryAfterSeconds = "2"

// outage is what a database error says about the database being there.
type outage int

const (
	// noOutage: the database answered this request (a constraint, a wrong password).
	noOutage outage = iota
	// databaseBusy: full, or no connection or answer in time; the connections are sound.
	databaseBusy
	// databaseLost: gone, restarting or failed over; none of the pool's connections can
	// be trusted any more.
	databaseLost
)

// lostStates are the SQLSTATEs of a server that cannot serve now though the request was
// fine; every SQLSTATE of class 08 (connection exception) too.
var lostStates = map[string]bool{
	"57P01": true, // admin_shutdown: pg_ctl stop, a terminated backend
	"57P02": true, // crash_shutdown: another backend crashed
	"57P03": true, // cannot_connect_now: starting up or shutting down
	"25006": true, // read_only_sql_transaction: a standby, as after a failover
}

// databaseOutage is the one place that decides "the database is not there right now":
// any outage is a 503 with Retry-After, never a 500, whatever the route.
func databaseOutage(err error) outage {
	var (
		pgErr   *pgconn.PgError
		connect *pgconn.ConnectError
		netErr  net.Error
	)
	switch {
	case errors.As(err, &pgErr):
		switch {
		case pgErr.Code == "53300": // too_many_connections
			return databaseBusy
		case lostStates[pgErr.Code], strings.HasPrefix(pgErr.Code, "08"):
			return databaseLost
		}
		return noOutage
	case errors.As(err, &connect): // refused or unreachable
		return databaseLost
	case errors.Is(err, pgconn.ErrConnClosed): // a connection the server ended, used again
		return databaseLost
	case pgconn.Timeout(err): // a query without an answer by the deadline
		return databaseBusy
	case errors.Is(err, context.DeadlineExceeded): // before net.Error, which it is too
		// pgxpool hands back the bare deadline when no connection became free in time;
		// every wait of a request other than the database's ends earlier.
		return databaseBusy
	case errors.As(err, &netErr): // a reset or broken socket
		return databaseLost
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF): // a hang-up mid-answer
		return databaseLost
	}
	return noOutage
}
