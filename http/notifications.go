package http

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/supermock/engine/projections"
)

// notifications is a page of the caller's inbox, newest first; unread=true keeps the
// unread ones.
func (s *server) notifications(c *fiber.Ctx) error {
	page, err := pageOf(c)
	if err != nil {
		return err
	}
	unread, err := queryBool(c, "unread")
	if err != nil {
		return err
	}
	list, err := read(s, c, projections.Inbox, projections.InboxQuery{UserID: sessionOf(c).UserID, UnreadOnly: unread, Page: page})
	if err != nil {
		return err
	}
	return c.JSON(list)
}

// readNotification finds the message's interview in the inbox table, after the
// caller's own writes: somebody else's message is 404 notification-not-found.
func (s *server) readNotification(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	me := sessionOf(c).UserID
	n, err := read(s, c, projections.NotificationOf, projections.NotificationQuery{UserID: me, NotificationID: id})
	if err != nil {
		return err
	}
	return reply(s, c, fiber.StatusOK, id, projections.NotificationOf, projections.NotificationQuery{UserID: me, NotificationID: id})(
		s.service(c).MarkNotificationRead(c.UserContext(), s.meta(c), uuid.MustParse(n.InterviewID), id, me))
}
