/* version.h — the cityops version string. */
#ifndef CO_VERSION_H
#define CO_VERSION_H
#define CO_VERSION "0.1.0"
#endif
