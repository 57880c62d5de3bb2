// Package domain is SuperMock's pure core: the user and interview aggregates, their
// commands and events, the matching rules and the time-driven decisions (expiry,
// reminders). It does no I/O: the Service loads and appends through the Store port,
// which main wires to the event store, and reads time from a Clock.
//
// Every aggregate follows one shape: a business method checks the rules and records
// an event; state changes only in the unexported apply, which never fails, so any
// stored history replays. A call that changes nothing records nothing.
package domain
