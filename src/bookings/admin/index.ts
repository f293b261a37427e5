// The admin GraphQL types of bookings, one file per type; the module's index.ts imports this file.
import './booking.ts';
