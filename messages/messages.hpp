#pragma once
// Every typed message of ktstr-actors, declared once, in one CAF type-ID block.
