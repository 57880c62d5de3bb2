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

// unavailableStates are the SQLSTATEs of a server that cannot serve now, though the
// request itself was fine: every SQLSTATE of class 08 (connection exception) too.
var unavailableStates = map[string]bool{
	"57P01": true, // admin_shutdown: pg_ctl stop, a terminated backend
	"57P02": true, // crash_shutdown: another backend crashed
	"57P03": true, // cannot_connect_now: starting up or shutting down
	"53300": true, // too_many_connections
	"25006": true, // read_only_sql_transaction: a standby, as after a failover
}

// databaseUnavailable is the one place that decides "the database is not there right
// now": such an error is a 503 with Retry-After, never a 500, whatever the route. A
// SQLSTATE outside the list is the database's answer to this request (a constraint,
// a wrong password), not an outage.
func databaseUnavailable(err error) bool {
	var (
		pgErr   *pgconn.PgError
		connect *pgconn.ConnectError
		netErr  net.Error
	)
	switch {
	case errors.As(err, &pgErr):
		return unavailableStates[pgErr.Code] || strings.HasPrefix(pgErr.Code, "08")
	case errors.As(err, &connect): // refused, unreachable, or no answer in time
		return true
	case errors.Is(err, pgconn.ErrConnClosed): // a connection the server ended, used again
		return true
	case pgconn.Timeout(err): // a query without an answer by the deadline
		return true
	case errors.As(err, &netErr): // a reset or broken socket
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF): // a hang-up mid-answer
		return true
	case errors.Is(err, context.DeadlineExceeded):
		// pgxpool hands back the bare deadline when no connection became free in time;
		// every wait of a request other than the database's ends earlier.
		return true
	}
	return false
}
