// The admin GraphQL types of oncall, one file per type; the module's index.ts imports this file.
import './member.ts';
import './group.ts';
import './shift.ts';
import './swap.ts';
